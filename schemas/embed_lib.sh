# embed_lib.sh - what schemas/embed.sh and schemas/embed_sql.sh share, sourced
# by both: a file's bytes as a C initializer, and a table of files compiled
# in byte for byte. Not run on its own.

# FILE -> its bytes as a C initializer, then the terminating NUL.
embed_bytes() {
    od -An -v -tx1 "$1" | awk '{ printf "   "; for (i = 1; i <= NF; i++) printf " 0x%s,", $i; print "" }'
    echo '    0x00'
}

# PREFIX TABLE STRUCT EXT FILE...: one NUL-terminated array PREFIX_<i> per
# FILE, then `const struct STRUCT TABLE[]` of { name, text, length } rows
# (name: the file's base name without EXT) and `const size_t TABLE_cnt`.
embed_files() {
    local prefix=$1 table=$2 struct=$3 ext=$4 i=0 f
    shift 4
    for f in "$@"; do
        echo "static const unsigned char ${prefix}_$i[] = {"
        embed_bytes "$f"
        echo '};'
        i=$((i + 1))
    done
    echo
    echo "const struct $struct $table[] = {"
    i=0
    for f in "$@"; do
        echo "    { \"$(basename "$f" "$ext")\", (const char *)${prefix}_$i, sizeof ${prefix}_$i - 1 },"
        i=$((i + 1))
    done
    echo '};'
    echo "const size_t ${table}_cnt = $#;"
}
