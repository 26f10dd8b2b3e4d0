/*
 * taskdir.c - the instance's and the tasks' directories under state.dir:
 * creating them, locking them with flock, and the instance identity file
 * (taskdir.h). Not what is in a store's directory: that is the backend's.
 */
#include "state/taskdir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIR_MODE 0755
#define LOCK_MODE 0644
#define LOCK_FILE ".lock"
#define INSTANCE_ID_FILE "instance.id"
#define INSTANCE_ID_BYTES ((RILL_STORE_INSTANCE_ID_SIZE - 1) / 2)

rill_err_t rill_store_dir_create(const char *path, char *errstr, size_t errsz)
{
    char buf[RILL_STORE_PATH_MAX];
    if ((size_t)snprintf(buf, sizeof buf, "%s", path) >= sizeof buf)
        return rill_errf(errstr, errsz, RILL_ERR_NOFIT,
                         "cannot create directory '%s': longer than %d bytes", path,
                         RILL_STORE_PATH_MAX - 1);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, DIR_MODE) && errno != EEXIST)
                return rill_errf(errstr, errsz, RILL_ERR_IO, "cannot create directory '%s': %s",
                                 buf, strerror(errno));
            *p = '/';
        }
    if (mkdir(buf, DIR_MODE) && errno != EEXIST)
        return rill_errf(errstr, errsz, RILL_ERR_IO, "cannot create directory '%s': %s", buf,
                         strerror(errno));
    return RILL_OK;
}

/* Locks dir/.lock without waiting; returns the descriptor, or -1 (errno)
 * when it cannot be opened or another process holds it. */
static int lock_dir(const char *dir)
{
    char path[RILL_STORE_PATH_MAX + sizeof LOCK_FILE + 1];
    snprintf(path, sizeof path, "%s/" LOCK_FILE, dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, LOCK_MODE);
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB)) {
        int saved = errno;
        close(fd);
        errno = saved;
        fd = -1;
    }
    return fd;
}

void rill_store_dir_unlock(int lock_fd)
{
    if (lock_fd >= 0)
        close(lock_fd);
}

rill_err_t rill_store_taskdir_open(const char *state_dir, const char *app, const char *processor,
                                   int32_t partition, char *dir, size_t dirsz, int *lock_fd,
                                   char *errstr, size_t errsz)
{
    *lock_fd = -1;
    int n = snprintf(dir, dirsz, "%s/%s/%s-%d", state_dir, app, processor, (int)partition);
    if (n < 0 || (size_t)n >= dirsz || (size_t)n >= RILL_STORE_PATH_MAX)
        return rill_errf(errstr, errsz, RILL_ERR_NOFIT,
                         "task directory of '%s' [%d] under '%s' is too long", processor,
                         (int)partition, state_dir);
    char why[RILL_ERRSTR_SIZE];
    if (rill_store_dir_create(dir, why, sizeof why) != RILL_OK)
        return rill_errf(errstr, errsz, RILL_ERR_IO, "cannot create task directory '%s': %s",
                         dir, why);
    *lock_fd = lock_dir(dir);
    if (*lock_fd < 0)
        return rill_errf(errstr, errsz, RILL_ERR_STATE,
                         "task directory '%s' is locked by another process", dir);
    return RILL_OK;
}

/* A new random id, as hex, into id. */
static rill_err_t instance_id_new(char id[RILL_STORE_INSTANCE_ID_SIZE], char *errstr,
                                  size_t errsz)
{
    unsigned char rnd[INSTANCE_ID_BYTES];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t got = fd >= 0 ? read(fd, rnd, sizeof rnd) : -1;
    if (fd >= 0)
        close(fd);
    if (got != (ssize_t)sizeof rnd)
        return rill_errf(errstr, errsz, RILL_ERR_IO, "cannot read '/dev/urandom'");
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(id + 2 * i, 3, "%02x", rnd[i]);
    return RILL_OK;
}

rill_err_t rill_store_instance_open(const char *state_dir, const char *app,
                                    char id[RILL_STORE_INSTANCE_ID_SIZE], int *lock_fd,
                                    char *errstr, size_t errsz)
{
    char dir[RILL_STORE_PATH_MAX], path[RILL_STORE_PATH_MAX + sizeof INSTANCE_ID_FILE + 1];
    char why[RILL_ERRSTR_SIZE];
    *lock_fd = -1;
    id[0] = '\0';
    if ((size_t)snprintf(dir, sizeof dir, "%s/%s", state_dir, app) >= sizeof dir)
        return rill_errf(errstr, errsz, RILL_ERR_NOFIT, "state directory '%s/%s' is too long",
                         state_dir, app);
    if (rill_store_dir_create(dir, why, sizeof why) != RILL_OK)
        return rill_errf(errstr, errsz, RILL_ERR_IO, "cannot create state directory '%s': %s",
                         dir, why);
    *lock_fd = lock_dir(dir);
    if (*lock_fd < 0)
        return rill_errf(errstr, errsz, RILL_ERR_IO,
                         "state directory '%s' is in use by another rill instance", dir);
    snprintf(path, sizeof path, "%s/" INSTANCE_ID_FILE, dir);
    FILE *f = fopen(path, "r");
    if (f) {
        /* Read more than an id holds, so that a longer one (edited by hand,
         * or brought from elsewhere) is refused, not cut: a changed id would
         * change the transactional ids and fence nothing of the last life. */
        char line[2 * RILL_STORE_INSTANCE_ID_SIZE];
        if (!fgets(line, sizeof line, f))
            line[0] = '\0';
        fclose(f);
        line[strcspn(line, "\r\n")] = '\0';
        if (strlen(line) >= RILL_STORE_INSTANCE_ID_SIZE) {
            rill_store_dir_unlock(*lock_fd);
            *lock_fd = -1;
            return rill_errf(errstr, errsz, RILL_ERR_NOFIT,
                             "'%s' holds an instance id longer than %d characters", path,
                             RILL_STORE_INSTANCE_ID_SIZE - 1);
        }
        memcpy(id, line, strlen(line) + 1);
    }
    if (id[0])
        return RILL_OK;
    rill_err_t err = instance_id_new(id, errstr, errsz);
    if (err != RILL_OK)
        return err;
    f = fopen(path, "w");
    int bad = !f || fprintf(f, "%s\n", id) < 0;
    if (f && fclose(f))
        bad = 1;
    if (bad) {
        int saved = errno;
        rill_store_dir_unlock(*lock_fd);
        *lock_fd = -1;
        return rill_errf(errstr, errsz, RILL_ERR_IO, "cannot write '%s': %s", path,
                         strerror(saved));
    }
    return RILL_OK;
}
