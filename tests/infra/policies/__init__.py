# tests/infra/policies: checkov custom checks of the project (loaded with
# --external-checks-dir); checkov needs this file to load the folder.
