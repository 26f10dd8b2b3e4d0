/*
 * tsan_threads.c - the C11 thread calls librdkafka makes, redone on pthreads
 * for the ThreadSanitizer flavor only (`make tsan`; the Makefile links this
 * object into the binaries of that flavor alone, and exports its symbols
 * with topology/base/tsan_threads.exports so that librdkafka binds to them).
 *
 * Workaround for librdkafka 2.0.2 as Debian builds it (C11 threads) on glibc
 * 2.34+: glibc's thrd_create(), mtx_lock() and cnd_wait() call glibc's
 * internal pthread functions directly, past the pthread interceptors of
 * GCC 12's libtsan. A thread made by thrd_create() then has no TSan state,
 * and its first malloc() crashes inside the sanitizer; and TSan would not
 * see librdkafka's locks, so it would report races between our callbacks
 * that librdkafka's mutexes order. Going through pthread_create(),
 * pthread_mutex_*() and pthread_cond_*() here lets the interceptors see
 * all of it. glibc's mtx_t and cnd_t have the size and alignment of
 * pthread_mutex_t and pthread_cond_t (asserted), and thrd_t is pthread_t.
 *
 * Not for other flavors: without TSan this file compiles to nothing.
 */
#ifdef __SANITIZE_THREAD__

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>
#include <time.h>

_Static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t), "mtx_t is not a pthread mutex");
_Static_assert(sizeof(cnd_t) == sizeof(pthread_cond_t), "cnd_t is not a pthread cond");
_Static_assert(sizeof(thrd_t) == sizeof(pthread_t), "thrd_t is not a pthread_t");

/* Declared here, not in a header: nothing of rill calls them. */
int thrd_create(thrd_t *thr, thrd_start_t func, void *arg);
int thrd_join(thrd_t thr, int *res);
int thrd_detach(thrd_t thr);
int mtx_init(mtx_t *m, int type);
int mtx_lock(mtx_t *m);
int mtx_trylock(mtx_t *m);
int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict ts);
int mtx_unlock(mtx_t *m);
void mtx_destroy(mtx_t *m);
int cnd_init(cnd_t *c);
int cnd_signal(cnd_t *c);
int cnd_broadcast(cnd_t *c);
int cnd_wait(cnd_t *c, mtx_t *m);
int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m, const struct timespec *restrict ts);
void cnd_destroy(cnd_t *c);

static int thrd_result(int err)
{
    return err == 0 ? thrd_success
         : err == ENOMEM || err == EAGAIN ? thrd_nomem
         : err == EBUSY ? thrd_busy
         : err == ETIMEDOUT ? thrd_timedout
         : thrd_error;
}

struct start {
    thrd_start_t func;
    void *arg;
};

static void *start_thread(void *p)
{
    struct start s = *(struct start *)p;
    free(p);
    return (void *)(intptr_t)s.func(s.arg);
}

int thrd_create(thrd_t *thr, thrd_start_t func, void *arg)
{
    struct start *s = malloc(sizeof *s);
    if (!s)
        return thrd_nomem;
    *s = (struct start){ func, arg };
    int err = pthread_create((pthread_t *)thr, NULL, start_thread, s);
    if (err)
        free(s);
    return thrd_result(err);
}

int thrd_join(thrd_t thr, int *res)
{
    void *ret;
    int err = pthread_join((pthread_t)thr, &ret);
    if (!err && res)
        *res = (int)(intptr_t)ret;
    return thrd_result(err);
}

int thrd_detach(thrd_t thr)
{
    return thrd_result(pthread_detach((pthread_t)thr));
}

int mtx_init(mtx_t *m, int type)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    if (type & mtx_recursive)
        pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    int err = pthread_mutex_init((pthread_mutex_t *)m, &a);
    pthread_mutexattr_destroy(&a);
    return thrd_result(err);
}

int mtx_lock(mtx_t *m) { return thrd_result(pthread_mutex_lock((pthread_mutex_t *)m)); }
int mtx_trylock(mtx_t *m) { return thrd_result(pthread_mutex_trylock((pthread_mutex_t *)m)); }
int mtx_unlock(mtx_t *m) { return thrd_result(pthread_mutex_unlock((pthread_mutex_t *)m)); }
void mtx_destroy(mtx_t *m) { pthread_mutex_destroy((pthread_mutex_t *)m); }

int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict ts)
{
    return thrd_result(pthread_mutex_timedlock((pthread_mutex_t *)m, ts));
}

int cnd_init(cnd_t *c) { return thrd_result(pthread_cond_init((pthread_cond_t *)c, NULL)); }
int cnd_signal(cnd_t *c) { return thrd_result(pthread_cond_signal((pthread_cond_t *)c)); }
int cnd_broadcast(cnd_t *c) { return thrd_result(pthread_cond_broadcast((pthread_cond_t *)c)); }
void cnd_destroy(cnd_t *c) { pthread_cond_destroy((pthread_cond_t *)c); }

int cnd_wait(cnd_t *c, mtx_t *m)
{
    return thrd_result(pthread_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m));
}

/* C11 and glibc: the deadline is TIME_UTC, i.e. CLOCK_REALTIME, which is
 * also pthread_cond_timedwait's default clock. */
int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m, const struct timespec *restrict ts)
{
    return thrd_result(pthread_cond_timedwait((pthread_cond_t *)c, (pthread_mutex_t *)m, ts));
}

#else
typedef int rill_tsan_threads_unused; /* ISO C wants a declaration in every file */
#endif
