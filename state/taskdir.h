/*
 * taskdir.h - where a rill instance keeps its stores on disk, and who may use
 * it: <state.dir>/<application.id>/ is one instance's (an flock'd `.lock`
 * keeps a second process out) and holds its identity (`instance.id`, kept
 * across restarts so that its transactional ids fence what its previous life
 * left open); <state.dir>/<application.id>/<processor>-<partition>/ is one
 * task's, locked the same way while the task runs here. Not the stores
 * themselves (store.h) nor their changelogs (restore.h).
 *
 * A lock is an open descriptor: closing it (rill_store_dir_unlock, or the
 * process dying) releases it. Thread-safe: no shared state.
 */
#ifndef RILL_TASKDIR_H
#define RILL_TASKDIR_H

#include <stddef.h>
#include <stdint.h>

#include "topology/rill.h"

/* The longest directory path the state directories may have, NUL included. */
#define RILL_STORE_PATH_MAX 1024
/* An instance id: 16 hex digits of /dev/urandom, then the NUL. */
#define RILL_STORE_INSTANCE_ID_SIZE 17

/* Creates path and its missing parents (like mkdir -p). RILL_ERR_NOFIT when
 * path is longer than RILL_STORE_PATH_MAX, RILL_ERR_IO when a directory
 * cannot be created. */
rill_err_t rill_store_dir_create(const char *path, char *errstr, size_t errsz);

/* Creates and locks the directory of task (processor, partition) under
 * <state_dir>/<app>/, its path into dir (dirsz bytes). *lock_fd gets the
 * lock (-1 on failure). RILL_ERR_STATE when another process holds it. */
rill_err_t rill_store_taskdir_open(const char *state_dir, const char *app, const char *processor,
                                   int32_t partition, char *dir, size_t dirsz, int *lock_fd,
                                   char *errstr, size_t errsz);

/* Creates and locks <state_dir>/<app>/ for this instance and reads its id
 * from instance.id there, or makes a new one and writes it. *lock_fd gets
 * the lock (-1 on failure). RILL_ERR_IO when the directory cannot be
 * created, is in use by another rill instance, or the id cannot be kept. */
rill_err_t rill_store_instance_open(const char *state_dir, const char *app,
                                    char id[RILL_STORE_INSTANCE_ID_SIZE], int *lock_fd,
                                    char *errstr, size_t errsz);

/* Releases a lock of the two calls above; -1 is a no-op. */
void rill_store_dir_unlock(int lock_fd);

#endif
