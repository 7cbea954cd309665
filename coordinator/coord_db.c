/*  coord_db.c - the coordinator's SQLite store (see coord_db.h)
 *
 *  This is the only file of sweepd that includes sqlite3.h. It owns the schema, its
 *  migrations, the durability settings and every SQL statement.
 *
 *  FORMAT
 *
 *  One SQLite database file (plus its -wal and -shm files while open), schema version
 *  in PRAGMA user_version. Version 1 has six tables:
 *
 *    sweeps    one row per sweep, name UNIQUE; spec holds the canonical spec text
 *              (keys sorted) so resume compares like with like; state is RUNNING,
 *              COMPLETE, FAILED or CANCELLED; served_ms is the time a coordinator
 *              served it (max_time_s counts serving time, not downtime).
 *    trials    (sweep_id, number) UNIQUE; params is the JSON object text exactly as
 *              proposed by the sampler. The column is TEXT so SQLite never converts
 *              it (a categorical 10 stays the integer 10, "10" stays a string,
 *              true/false/null stay JSON literals). value is the mean of the folds'
 *              objective values, value_std their population standard deviation.
 *    attempts  one row per dispatch; id is the attempt id on the wire (AUTOINCREMENT,
 *              never reused). At most ONE COMPLETE attempt per (trial_id, fold),
 *              enforced by the partial UNIQUE index attempts_one_complete: this is
 *              the exactly-once guarantee written into the file.
 *    reports   per-step metrics, PRIMARY KEY (attempt_id, step): a re-sent REPORT
 *              replaces, never duplicates.
 *    workers   every worker seen: alive, lost (lease expired) or gone (said BYE).
 *    events    an append-only log of what the scheduler decided and why.
 *
 *  Version 2 adds a seventh:
 *
 *    worker_key  with CURVE, the public key (Z85) each worker id is bound to by its
 *              first HELLO; worker_id PRIMARY KEY, so a binding is never replaced.
 *
 *  INVARIANTS (kept by coord_sched.c, relied upon at recovery)
 *
 *    - A trial is final (COMPLETE, PRUNED, FAILED, CANCELLED) iff finished_unix_ms is
 *      set; a final trial is never dispatched again.
 *    - A trial is COMPLETE iff each of its folds (k >= 2) or its single unit (fold -1)
 *      has exactly one COMPLETE attempt; folds_done counts them.
 *    - A RUNNING attempt is a lease to check: after a restart it waits one lease
 *      period for its worker to re-attach, then becomes LOST and its fold is requeued.
 *    - LOST attempts count as retries of their fold unless their kind is 'handed_back',
 *      'busy', 'reconnect', 'worker' or 'restart' (no fault of the trial; coord_sched.c).
 *
 *  ONE WRITER
 *
 *  A read-write open holds PATH-lock with flock(2) (pid and host written inside) for
 *  as long as the handle lives. flock rather than a pid file: the kernel drops it when
 *  the process dies, so a SIGKILLed coordinator never blocks the next start, and no
 *  stale-pid guessing is needed. It is taken before SQLite opens the file, so a
 *  refused opener writes nothing. Readers (SQLITE_OPEN_READONLY) take no lock.
 *
 *  DURABILITY
 *
 *  journal_mode=WAL, synchronous=FULL. sweepd acknowledges a RESULT only after the
 *  commit that records it, and the worker then forgets the result. With
 *  synchronous=NORMAL a WAL commit is durable across a process crash but may be rolled
 *  back by a power loss or kernel crash, so an acknowledged result could vanish: that
 *  would break guarantee 1. FULL syncs the WAL on every commit. Its cost (about 4,000
 *  commits/s on this class of machine) is paid once per loop turn, not once per
 *  message, thanks to group commit (one transaction per turn, 450k rows/s measured at
 *  1000 rows per commit), far above what training-bound workers produce. Like redis'
 *  appendfsync always, traded for its opposite on purpose.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "coordinator/coord_db.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/sw_err.h"
#include "common/sw_log.h"

/* Migration N takes user_version N-1 to N. Append, never edit a published one. */
static const char *const s_migrations[] = {
    /* v1 */
    "CREATE TABLE sweeps ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  spec TEXT NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('RUNNING','COMPLETE','FAILED','CANCELLED')),"
    "  reason TEXT,"
    "  served_ms INTEGER NOT NULL DEFAULT 0,"
    "  created_unix_ms INTEGER NOT NULL,"
    "  finished_unix_ms INTEGER);"
    "CREATE TABLE trials ("
    "  id INTEGER PRIMARY KEY,"
    "  sweep_id INTEGER NOT NULL REFERENCES sweeps(id),"
    "  number INTEGER NOT NULL,"
    "  params TEXT NOT NULL CHECK (json_valid(params)),"
    "  state TEXT NOT NULL CHECK (state IN"
    "    ('PENDING','RUNNING','COMPLETE','PRUNED','FAILED','CANCELLED')),"
    "  value REAL,"
    "  value_std REAL,"
    "  folds_done INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT,"
    "  created_unix_ms INTEGER NOT NULL,"
    "  started_unix_ms INTEGER,"
    "  finished_unix_ms INTEGER,"
    "  UNIQUE (sweep_id, number));"
    "CREATE TABLE attempts ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  trial_id INTEGER NOT NULL REFERENCES trials(id),"
    "  fold INTEGER NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN"
    "    ('RUNNING','COMPLETE','PRUNED','FAILED','LOST','CANCELLED')),"
    "  worker_id TEXT,"
    "  metrics TEXT,"
    "  value REAL,"
    "  error TEXT,"
    "  kind TEXT,"
    "  last_step INTEGER,"
    "  started_unix_ms INTEGER NOT NULL,"
    "  finished_unix_ms INTEGER);"
    "CREATE UNIQUE INDEX attempts_one_complete ON attempts(trial_id, fold)"
    "  WHERE state = 'COMPLETE';"
    "CREATE INDEX attempts_trial ON attempts(trial_id);"
    "CREATE INDEX attempts_running ON attempts(state) WHERE state = 'RUNNING';"
    "CREATE TABLE reports ("
    "  attempt_id INTEGER NOT NULL REFERENCES attempts(id),"
    "  step INTEGER NOT NULL,"
    "  metrics TEXT NOT NULL,"
    "  unix_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (attempt_id, step)) WITHOUT ROWID;"
    "CREATE TABLE workers ("
    "  id TEXT PRIMARY KEY,"
    "  host TEXT,"
    "  pid INTEGER,"
    "  slots INTEGER,"
    "  first_seen_unix_ms INTEGER NOT NULL,"
    "  last_seen_unix_ms INTEGER NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('alive','lost','gone')));"
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY,"
    "  sweep_id INTEGER,"
    "  unix_ms INTEGER NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  detail TEXT);"
    "CREATE INDEX events_sweep ON events(sweep_id, kind);",
    /* v2: the CURVE key each worker id is bound to (its first HELLO), kept across
     * restarts so that another key cannot claim the id after one */
    "CREATE TABLE worker_key ("
    "  worker_id TEXT PRIMARY KEY,"
    "  public_key TEXT NOT NULL CHECK (length(public_key) = 40),"
    "  bound_unix_ms INTEGER NOT NULL);",
};
#define S_N_MIGRATIONS ((int)(sizeof s_migrations / sizeof s_migrations[0]))

/* Every statement, prepared once (on first use) and finalized in coord_db_destroy. */
enum {
    Q_BEGIN, Q_COMMIT, Q_ROLLBACK,
    Q_SWEEPS_ALL, Q_SWEEPS_NAME, Q_SWEEP_INSERT, Q_SWEEP_SPEC, Q_SWEEP_STATE, Q_SWEEP_SERVED,
    Q_TRIALS, Q_TRIAL_INSERT, Q_TRIAL_UPDATE,
    Q_ATTEMPTS_ALL, Q_ATTEMPTS_SWEEP, Q_ATTEMPTS_STATE, Q_ATTEMPTS_SWEEP_STATE, Q_ATTEMPT_GET,
    Q_ATTEMPT_INSERT, Q_ATTEMPT_UPDATE,
    Q_REPORT_INSERT, Q_REPORT_COUNT,
    Q_WORKERS, Q_WORKER_UPSERT, Q_WORKER_SEEN, Q_WORKER_STATE,
    Q_EVENT_ADD, Q_EVENTS, Q_EVENTS_RECENT, Q_REPORTS_SWEEP,
    Q_WORKER_KEYS, Q_WORKER_KEY_BIND,
    Q_COUNT
};

#define S_SWEEP_COLS "id, name, spec, state, reason, served_ms, created_unix_ms, finished_unix_ms"
#define S_TRIAL_COLS "id, sweep_id, number, params, state, value, value_std, folds_done, " \
                     "error, created_unix_ms, started_unix_ms, finished_unix_ms"
#define S_ATTEMPT_SELECT "SELECT a.id, a.trial_id, t.sweep_id, t.number, a.fold, a.state, " \
                         "a.worker_id, a.metrics, a.value, a.error, a.kind, a.last_step, " \
                         "a.started_unix_ms, a.finished_unix_ms " \
                         "FROM attempts a JOIN trials t ON t.id = a.trial_id "

static const char *const s_sql[Q_COUNT] = {
    [Q_BEGIN] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
    [Q_SWEEPS_ALL] = "SELECT " S_SWEEP_COLS " FROM sweeps ORDER BY id",
    [Q_SWEEPS_NAME] = "SELECT " S_SWEEP_COLS " FROM sweeps WHERE name = ?1",
    [Q_SWEEP_INSERT] = "INSERT INTO sweeps (name, spec, state, created_unix_ms) "
                       "VALUES (?1, ?2, 'RUNNING', ?3)",
    [Q_SWEEP_SPEC] = "UPDATE sweeps SET spec = ?2 WHERE id = ?1",
    [Q_SWEEP_STATE] = "UPDATE sweeps SET state = ?2, reason = ?3, finished_unix_ms = ?4 "
                      "WHERE id = ?1",
    [Q_SWEEP_SERVED] = "UPDATE sweeps SET served_ms = ?2 WHERE id = ?1",
    [Q_TRIALS] = "SELECT " S_TRIAL_COLS " FROM trials WHERE sweep_id = ?1 ORDER BY number",
    [Q_TRIAL_INSERT] = "INSERT INTO trials (sweep_id, number, params, state, created_unix_ms) "
                       "VALUES (?1, ?2, ?3, ?4, ?5)",
    [Q_TRIAL_UPDATE] = "UPDATE trials SET state = ?2, value = ?3, value_std = ?4, "
                       "folds_done = ?5, error = ?6, started_unix_ms = ?7, "
                       "finished_unix_ms = ?8 WHERE id = ?1",
    [Q_ATTEMPTS_ALL] = S_ATTEMPT_SELECT "ORDER BY a.id",
    [Q_ATTEMPTS_SWEEP] = S_ATTEMPT_SELECT "WHERE t.sweep_id = ?1 ORDER BY a.id",
    [Q_ATTEMPTS_STATE] = S_ATTEMPT_SELECT "WHERE a.state = ?2 ORDER BY a.id",
    [Q_ATTEMPTS_SWEEP_STATE] = S_ATTEMPT_SELECT "WHERE t.sweep_id = ?1 AND a.state = ?2 "
                               "ORDER BY a.id",
    [Q_ATTEMPT_GET] = S_ATTEMPT_SELECT "WHERE a.id = ?1",
    [Q_ATTEMPT_INSERT] = "INSERT INTO attempts (trial_id, fold, state, worker_id, "
                         "started_unix_ms) VALUES (?1, ?2, 'RUNNING', ?3, ?4)",
    [Q_ATTEMPT_UPDATE] = "UPDATE attempts SET state = ?2, metrics = ?3, value = ?4, "
                         "error = ?5, kind = ?6, last_step = ?7, finished_unix_ms = ?8 "
                         "WHERE id = ?1",
    [Q_REPORT_INSERT] = "INSERT OR REPLACE INTO reports (attempt_id, step, metrics, unix_ms) "
                        "VALUES (?1, ?2, ?3, ?4)",
    [Q_REPORT_COUNT] = "SELECT count(*) FROM reports WHERE attempt_id = ?1",
    [Q_REPORTS_SWEEP] = "SELECT t.number, a.fold, r.step, r.metrics FROM reports r "
                        "JOIN attempts a ON a.id = r.attempt_id JOIN trials t ON t.id = a.trial_id "
                        "WHERE t.sweep_id = ?1 ORDER BY r.unix_ms, r.attempt_id, r.step",
    [Q_WORKERS] = "SELECT id, host, pid, slots, first_seen_unix_ms, last_seen_unix_ms, state "
                  "FROM workers ORDER BY id",
    [Q_WORKER_UPSERT] = "INSERT INTO workers (id, host, pid, slots, first_seen_unix_ms, "
                        "last_seen_unix_ms, state) VALUES (?1, ?2, ?3, ?4, ?5, ?5, 'alive') "
                        "ON CONFLICT(id) DO UPDATE SET host = ?2, pid = ?3, slots = ?4, "
                        "last_seen_unix_ms = ?5, state = 'alive'",
    [Q_WORKER_SEEN] = "UPDATE workers SET last_seen_unix_ms = ?2 WHERE id = ?1",
    [Q_WORKER_STATE] = "UPDATE workers SET state = ?2 WHERE id = ?1",
    [Q_EVENT_ADD] = "INSERT INTO events (sweep_id, unix_ms, kind, detail) VALUES (?1, ?2, ?3, ?4)",
    [Q_EVENTS] = "SELECT id, sweep_id, unix_ms, kind, detail FROM events "
                 "WHERE (?1 = 0 OR sweep_id = ?1) AND (?2 IS NULL OR kind = ?2) ORDER BY id",
    [Q_EVENTS_RECENT] = "SELECT * FROM (SELECT id, sweep_id, unix_ms, kind, detail FROM events "
                        "WHERE (?1 = 0 OR sweep_id = ?1 OR sweep_id IS NULL) "
                        "ORDER BY id DESC LIMIT ?2) ORDER BY id",
    [Q_WORKER_KEYS] = "SELECT worker_id, public_key, bound_unix_ms FROM worker_key "
                      "ORDER BY worker_id",
    [Q_WORKER_KEY_BIND] = "INSERT INTO worker_key (worker_id, public_key, bound_unix_ms) "
                          "VALUES (?1, ?2, ?3)",
};

struct coord_db {
    sqlite3 *db;                    /* the connection */
    bool readonly;                  /* opened with SQLITE_OPEN_READONLY */
    bool in_txn;                    /* a write transaction is open */
    int lock_fd;                    /* PATH-lock held with flock (read-write opens), or -1 */
    char last_error[512];           /* the first write failure since the last commit */
    sqlite3_stmt *stmt[Q_COUNT];    /* prepared statements, NULL until first use */
};

/* Record the first write failure of the transaction, in words a user can act on:
 * SQLite's message with the cause of a full disk or an I/O error spelled out. */
static void s_write_failed(coord_db_t *self, int rc)
{
    if (self->last_error[0])
        return;
    const char *msg = sqlite3_errmsg(self->db);
    int prim = rc & 0xff;
    int sys = sqlite3_system_errno(self->db);
    if (prim == SQLITE_FULL)
        snprintf(self->last_error, sizeof self->last_error, "disk full (%s%s%s)", msg,
                 sys ? ": " : "", sys ? strerror(sys) : "");
    else if (sys && (prim == SQLITE_IOERR || prim == SQLITE_CANTOPEN || prim == SQLITE_READONLY))
        snprintf(self->last_error, sizeof self->last_error, "%s (%s)", msg, strerror(sys));
    else
        snprintf(self->last_error, sizeof self->last_error, "%s", msg);
}

static sqlite3_stmt *s_stmt(coord_db_t *self, int q)
{
    if (!self->stmt[q]) {
        if (sqlite3_prepare_v3(self->db, s_sql[q], -1, SQLITE_PREPARE_PERSISTENT,
                               &self->stmt[q], NULL) != SQLITE_OK) {
            sw_log_error("cannot prepare statement: %s", sqlite3_errmsg(self->db));
            self->stmt[q] = NULL;
            return NULL;
        }
    }
    sqlite3_reset(self->stmt[q]);
    sqlite3_clear_bindings(self->stmt[q]);
    return self->stmt[q];
}

static void s_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* NaN (and only NaN) stores NULL: SQLite would store NULL anyway, say so explicitly. */
static void s_bind_double(sqlite3_stmt *st, int i, double v)
{
    if (isnan(v))
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_double(st, i, v);
}

static void s_bind_ms(sqlite3_stmt *st, int i, int64_t ms)
{
    if (ms)
        sqlite3_bind_int64(st, i, ms);
    else
        sqlite3_bind_null(st, i);
}

static const char *s_col_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static double s_col_double(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

/* Run a statement that returns no rows; 0, SW_ESTATE on a constraint, or SW_EDB. */
static int s_exec_stmt(coord_db_t *self, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW)
        return 0;
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        sw_log_debug("constraint refused a write: %s", sqlite3_errmsg(self->db));
        return SW_ESTATE;
    }
    /* logged once, by whoever decides what happens next (coord.c stops serving) */
    s_write_failed(self, rc);
    sw_log_debug("database write failed: %s", self->last_error);
    return SW_EDB;
}

static int s_exec(coord_db_t *self, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(self->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        sw_log_error("database statement failed: %s", msg ? msg : "?");
        sqlite3_free(msg);
        return SW_EDB;
    }
    return 0;
}

int coord_db_schema_version(coord_db_t *self)
{
    assert(self);
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(self->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK
        && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

int coord_db_migrate(coord_db_t *self)
{
    assert(self);
    if (self->readonly)
        return SW_ESTATE;
    int v = coord_db_schema_version(self);
    if (v < 0)
        return SW_EDB;
    if (v > S_N_MIGRATIONS) {
        sw_log_error("database schema is newer than this sweepd, refusing to write "
                     "user_version=%d known=%d", v, S_N_MIGRATIONS);
        return SW_ESTATE;
    }
    for (; v < S_N_MIGRATIONS; v++) {
        char bump[64];
        snprintf(bump, sizeof bump, "PRAGMA user_version = %d", v + 1);
        if (s_exec(self, "BEGIN IMMEDIATE"))
            return SW_EDB;
        if (s_exec(self, s_migrations[v]) || s_exec(self, bump) || s_exec(self, "COMMIT")) {
            s_exec(self, "ROLLBACK");
            return SW_EDB;
        }
        sw_log_info("database migrated to schema version %d", v + 1);
    }
    return 0;
}

/* Tables in the open database (not counting SQLite's own), or -1 on error. */
static int s_table_count(coord_db_t *self)
{
    sqlite3_stmt *st = NULL;
    int n = -1;
    if (sqlite3_prepare_v2(self->db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                           "AND name NOT LIKE 'sqlite_%'", -1, &st, NULL) == SQLITE_OK
        && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* Why PATH cannot be opened or created, from ERRNO_ (0: unknown), into BUF: "no such
 * directory '/x'", "permission denied", "read-only file system", ... */
static void s_open_cause(const char *path, int errno_, bool readonly, char *buf, size_t len)
{
    char *copy = strdup(path);
    const char *dir = copy ? dirname(copy) : ".";
    struct stat st;
    struct statvfs vfs;
    if (!readonly && stat(dir, &st) != 0)
        snprintf(buf, len, "no such directory '%s'", dir);
    else if (!readonly && !S_ISDIR(st.st_mode))
        snprintf(buf, len, "'%s' is not a directory", dir);
    else if (!readonly && statvfs(dir, &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
        snprintf(buf, len, "read-only file system (cannot write in '%s')", dir);
    else if (errno_ == EACCES || errno_ == EPERM)
        snprintf(buf, len, "permission denied (%s)", readonly ? path : dir);
    else if (errno_ == ENOENT)
        snprintf(buf, len, readonly ? "no such file" : "no such file or directory");
    else if (errno_ == EROFS)
        snprintf(buf, len, "read-only file system");
    else if (errno_)
        snprintf(buf, len, "%s", strerror(errno_));
    else
        snprintf(buf, len, "unknown cause");
    free(copy);
}

/* Take PATH-lock with flock(2) so that only one coordinator serves the file; write our
 * pid and host into it. The kernel drops the lock when the process dies, so a
 * SIGKILLed coordinator leaves nothing that blocks the next start. 0, SW_ESTATE when
 * another process holds it (logged, naming it), SW_EDB when it cannot be created. */
static int s_lock(coord_db_t *self, const char *path)
{
    char lpath[4200];
    snprintf(lpath, sizeof lpath, "%s" COORD_DB_LOCK_SUFFIX, path);
    int fd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        char cause[512];
        s_open_cause(path, errno, false, cause, sizeof cause);
        sw_log_error("cannot open database '%s': %s", path, cause);
        return SW_EDB;
    }
    if (flock(fd, LOCK_EX | LOCK_NB)) {
        int e = errno;
        if (e != EWOULDBLOCK) {
            sw_log_error("cannot lock database '%s' (%s): %s", path, lpath, strerror(e));
            close(fd);
            return SW_EDB;
        }
        char text[320] = "", host[256] = "?";
        long long pid = 0;
        ssize_t n = pread(fd, text, sizeof text - 1, 0);
        text[n > 0 ? n : 0] = 0;
        if (sscanf(text, "%lld %255s", &pid, host) < 1)
            pid = 0;
        if (pid > 0)
            sw_log_error("database %s is served by another coordinator (pid %lld on host %s); "
                         "stop it first", path, pid, host);
        else
            sw_log_error("database %s is served by another coordinator (see %s); stop it first",
                         path, lpath);
        close(fd);
        return SW_ESTATE;
    }
    char host[256] = "localhost", text[320];
    if (gethostname(host, sizeof host - 1))
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = 0;
    int len = snprintf(text, sizeof text, "%ld %s\n", (long)getpid(), host);
    if (ftruncate(fd, 0) || pwrite(fd, text, (size_t)len, 0) != len)
        sw_log_warn("cannot write the owner into %s: %s", lpath, strerror(errno));
    self->lock_fd = fd;
    return 0;
}

coord_db_t *coord_db_new(const char *path, bool readonly, int *err)
{
    assert(path);
    int dummy;
    if (!err)
        err = &dummy;
    *err = 0;
    coord_db_t *self = calloc(1, sizeof *self);
    if (!self) {
        *err = SW_ENOMEM;
        return NULL;
    }
    self->readonly = readonly;
    self->lock_fd = -1;
    if (!readonly) {
        int lrc = s_lock(self, path);
        if (lrc) {
            *err = lrc;
            coord_db_destroy(&self);
            return NULL;
        }
    }
    int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &self->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        char cause[512];
        s_open_cause(path, self->db ? sqlite3_system_errno(self->db) : ENOMEM, readonly, cause,
                     sizeof cause);
        sw_log_error("cannot open database '%s': %s", path, cause);
        goto fail;
    }
    sqlite3_busy_timeout(self->db, 5000);
    if (!readonly) {
        if (s_exec(self, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
                         "PRAGMA foreign_keys = ON")) {
            char cause[512];
            s_open_cause(path, sqlite3_system_errno(self->db), readonly, cause, sizeof cause);
            sw_log_error("cannot open database '%s' for writing: %s", path, cause);
            goto fail;
        }
        if (coord_db_schema_version(self) == 0 && s_table_count(self) > 0) {
            sw_log_error("'%s' is not a sweepd database (user_version 0 and %d tables of "
                         "something else); refusing to write to it", path, s_table_count(self));
            goto fail;
        }
        if (coord_db_migrate(self))
            goto fail;
    } else {
        int v = coord_db_schema_version(self);
        if (v < 0) {
            char cause[512];
            s_open_cause(path, sqlite3_system_errno(self->db), readonly, cause, sizeof cause);
            sw_log_error("cannot read database '%s': %s (%s)", path, sqlite3_errmsg(self->db),
                         cause);
            goto fail;
        }
        if (v == 0 && s_table_count(self) == 0) {
            /* created by a coordinator that failed before its first migration: an empty
             * sweepd database. Read an empty in-memory one of the current schema. */
            for (int q = 0; q < Q_COUNT; q++)
                sqlite3_finalize(self->stmt[q]), self->stmt[q] = NULL;
            sqlite3_close(self->db);
            self->db = NULL;
            self->readonly = false;
            if (sqlite3_open_v2(":memory:", &self->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK
                || coord_db_migrate(self))
                goto fail;
            self->readonly = true;
            return self;
        }
        if (v == 0 || v > S_N_MIGRATIONS) {
            sw_log_error("'%s' is not a sweepd database of a known schema (user_version=%d)",
                         path, v);
            goto fail;
        }
    }
    return self;
fail:
    *err = SW_EDB;
    coord_db_destroy(&self);
    return NULL;
}

void coord_db_destroy(coord_db_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    coord_db_t *self = *self_p;
    if (self->in_txn)
        coord_db_rollback(self);
    for (int q = 0; q < Q_COUNT; q++)
        sqlite3_finalize(self->stmt[q]);
    sqlite3_close(self->db);
    if (self->lock_fd >= 0)
        close(self->lock_fd);   /* releases the flock; the file stays for the next start */
    free(self);
    *self_p = NULL;
}

const char *coord_db_errmsg(coord_db_t *self)
{
    assert(self);
    return sqlite3_errmsg(self->db);
}

int coord_db_begin(coord_db_t *self)
{
    assert(self);
    if (self->in_txn)
        return 0;
    if (self->readonly)
        return SW_ESTATE;
    sqlite3_stmt *st = s_stmt(self, Q_BEGIN);
    if (!st || s_exec_stmt(self, st))
        return SW_EDB;
    self->in_txn = true;
    return 0;
}

int coord_db_commit(coord_db_t *self)
{
    assert(self);
    if (!self->in_txn)
        return 0;
    sqlite3_stmt *st = s_stmt(self, Q_COMMIT);
    int rc = st ? s_exec_stmt(self, st) : SW_EDB;
    if (rc) {
        coord_db_rollback(self);
        return SW_EDB;
    }
    self->in_txn = false;
    self->last_error[0] = 0;
    return 0;
}

void coord_db_rollback(coord_db_t *self)
{
    assert(self);
    if (!self->in_txn)
        return;
    self->in_txn = false;
    /* after SQLITE_FULL or an I/O error SQLite may already have rolled the transaction
     * back itself: a ROLLBACK then only adds "no transaction is active" */
    if (sqlite3_get_autocommit(self->db))
        return;
    sqlite3_stmt *st = s_stmt(self, Q_ROLLBACK);
    if (st && sqlite3_step(st) != SQLITE_DONE)
        sw_log_debug("rollback: %s", sqlite3_errmsg(self->db));
    if (st)
        sqlite3_reset(st);
}

const char *coord_db_last_error(const coord_db_t *self)
{
    assert(self);
    return self->last_error[0] ? self->last_error : NULL;
}

int coord_db_limit_pages(coord_db_t *self, int64_t max_pages)
{
    assert(self);
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA max_page_count = %lld", (long long)max_pages);
    return s_exec(self, sql);
}

int64_t coord_db_page_count(coord_db_t *self)
{
    assert(self);
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(self->db, "PRAGMA page_count", -1, &st, NULL) == SQLITE_OK
        && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

bool coord_db_in_txn(const coord_db_t *self)
{
    assert(self);
    return self->in_txn;
}

/* Prepare a write statement inside the group transaction. */
static sqlite3_stmt *s_write(coord_db_t *self, int q)
{
    if (coord_db_begin(self))
        return NULL;
    return s_stmt(self, q);
}

/* Step a query, calling ROW_FN per row; returns the first non-zero from ROW_FN, 0, or
 * SW_EDB. ROW_FN converts the row and calls the user callback. */
typedef void (s_any_fn)(void);   /* any callback, cast back by the row function */
typedef int (s_row_fn)(sqlite3_stmt *st, s_any_fn *fn, void *arg);

static int s_query(coord_db_t *self, sqlite3_stmt *st, s_row_fn *row_fn, s_any_fn *fn, void *arg)
{
    if (!st)
        return SW_EDB;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int r = row_fn(st, fn, arg);
        if (r) {
            sqlite3_reset(st);
            return r;
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        sw_log_error("database query failed: %s", sqlite3_errmsg(self->db));
        return SW_EDB;
    }
    return 0;
}

/* ---- sweeps ---- */

static int s_sweep_row(sqlite3_stmt *st, s_any_fn *fn, void *arg)
{
    coord_db_sweep_t r = {
        .id = sqlite3_column_int64(st, 0),
        .name = s_col_text(st, 1),
        .spec = s_col_text(st, 2),
        .state = s_col_text(st, 3),
        .reason = s_col_text(st, 4),
        .served_ms = sqlite3_column_int64(st, 5),
        .created_unix_ms = sqlite3_column_int64(st, 6),
        .finished_unix_ms = sqlite3_column_int64(st, 7),
    };
    return ((coord_db_sweep_fn *)fn)(&r, arg);
}

int coord_db_sweeps(coord_db_t *self, const char *name, coord_db_sweep_fn *fn, void *arg)
{
    assert(self && fn);
    sqlite3_stmt *st = s_stmt(self, name ? Q_SWEEPS_NAME : Q_SWEEPS_ALL);
    if (st && name)
        s_bind_text(st, 1, name);
    return s_query(self, st, s_sweep_row, (s_any_fn *)fn, arg);
}

int coord_db_sweep_insert(coord_db_t *self, const char *name, const char *spec,
                          int64_t now_unix_ms, int64_t *id_out)
{
    assert(self && name && spec && id_out);
    sqlite3_stmt *st = s_write(self, Q_SWEEP_INSERT);
    if (!st)
        return SW_EDB;
    s_bind_text(st, 1, name);
    s_bind_text(st, 2, spec);
    sqlite3_bind_int64(st, 3, now_unix_ms);
    if (s_exec_stmt(self, st))
        return SW_EDB;
    *id_out = sqlite3_last_insert_rowid(self->db);
    return 0;
}

int coord_db_sweep_set_spec(coord_db_t *self, int64_t id, const char *spec)
{
    assert(self && spec);
    sqlite3_stmt *st = s_write(self, Q_SWEEP_SPEC);
    if (!st)
        return SW_EDB;
    sqlite3_bind_int64(st, 1, id);
    s_bind_text(st, 2, spec);
    return s_exec_stmt(self, st) ? SW_EDB : 0;
}

int coord_db_sweep_set_state(coord_db_t *self, int64_t id, const char *state,
                             const char *reason, int64_t finished_unix_ms)
{
    assert(self && state);
    sqlite3_stmt *st = s_write(self, Q_SWEEP_STATE);
    if (!st)
        return SW_EDB;
    sqlite3_bind_int64(st, 1, id);
    s_bind_text(st, 2, state);
    s_bind_text(st, 3, reason);
    s_bind_ms(st, 4, finished_unix_ms);
    return s_exec_stmt(self, st) ? SW_EDB : 0;
}

int coord_db_sweep_set_served(coord_db_t *self, int64_t id, int64_t served_ms)
{
    assert(self);
    sqlite3_stmt *st = s_write(self, Q_SWEEP_SERVED);
    if (!st)
        return SW_EDB;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, served_ms);
    return s_exec_stmt(self, st) ? SW_EDB : 0;
}

/* ---- trials ---- */

static int s_trial_row(sqlite3_stmt *st, s_any_fn *fn, void *arg)
{
    coord_db_trial_t r = {
        .id = sqlite3_column_int64(st, 0),
        .sweep_id = sqlite3_column_int64(st, 1),
        .number = sqlite3_column_int64(st, 2),
        .params = s_col_text(st, 3),
        .state = s_col_text(st, 4),
        .value = s_col_double(st, 5),
        .value_std = s_col_double(st, 6),
        .folds_done = sqlite3_column_int(st, 7),
        .error = s_col_text(st, 8),
        .created_unix_ms = sqlite3_column_int64(st, 9),
        .started_unix_ms = sqlite3_column_int64(st, 10),
        .finished_unix_ms = sqlite3_column_int64(st, 11),
    };
    return ((coord_db_trial_fn *)fn)(&r, arg);
}

int coord_db_trials(coord_db_t *self, int64_t sweep_id, coord_db_trial_fn *fn, void *arg)
{
    assert(self && fn);
    sqlite3_stmt *st = s_stmt(self, Q_TRIALS);
    if (st)
        sqlite3_bind_int64(st, 1, sweep_id);
    return s_query(self, st, s_trial_row, (s_any_fn *)fn, arg);
}

int coord_db_trial_insert(coord_db_t *self, int64_t sweep_id, int64_t number,
                          const char *params, const char *state, int64_t now_unix_ms,
                          int64_t *id_out)
{
    assert(self && params && state && id_out);
    sqlite3_stmt *st = s_write(self, Q_TRIAL_INSERT);
    if (!st)
        return SW_EDB;
    sqlite3_bind_int64(st, 1, sweep_id);
    sqlite3_bind_int64(st, 2, number);
    s_bind_text(st, 3, params);
    s_bind_text(st, 4, state);
    sqlite3_bind_int64(st, 5, now_unix_ms);
    if (s_exec_stmt(self, st))
        return SW_EDB;
    *id_out = sqlite3_last_insert_rowid(self->db);
    return 0;
}

int coord_db_trial_update(coord_db_t *self, const coord_db_trial_t *row)
{
    assert(self && row && row->state);
    sqlite3_stmt *st = s_write(self, Q_TRIAL_UPDATE);
    if (!st)
        return SW_EDB;
    sqlite3_bind_int64(st, 1, row->id);
    s_bind_text(st, 2, row->state);
    s_bind_double(st, 3, row->value);
    s_bind_double(st, 4, row->value_std);
    sqlite3_bind_int(st, 5, row->folds_done);
    s_bind_text(st, 6, row->error);
    s_bind_ms(st, 7, row->started_unix_ms);
    s_bind_ms(st, 8, row->finished_unix_ms);
    return s_exec_stmt(self, st) ? SW_EDB : 0;
}

/* ---- attempts ---- */

static int s_attempt_row(sqlite3_stmt *st, s_any_fn *fn, void *arg)
{
    coord_db_attempt_t r = {
        .id = sqlite3_column_int64(st, 0),
        .trial_id = sqlite3_column_int64(st, 1),
        .sweep_id = sqlite3_column_int64(st, 2),
        .trial_number = sqlite3_column_int64(st, 3),
        .fold = sqlite3_column_int(st, 4),
        .state = s_col_text(st, 5),
        .worker_id = s_col_text(st, 6),
        .metrics = s_col_text(st, 7),
        .value = s_col_double(st, 8),
        .error = s_col_text(st, 9),
        .kind = s_col_text(st, 10),
        .last_step = sqlite3_column_type(st, 11) == SQLITE_NULL ? -1
                                                                 : sqlite3_column_int64(st, 11),
        .started_unix_ms = sqlite3_column_int64(st, 12),
        .finished_unix_ms = sqlite3_column_int64(st, 13),
    };
    return ((coord_db_attempt_fn *)fn)(&r, arg);
}

int coord_db_attempts(coord_db_t *self, int64_t sweep_id, const char *state,
                      coord_db_attempt_fn *fn, void *arg)
{
    assert(self && fn);
    int q = sweep_id ? (state ? Q_ATTEMPTS_SWEEP_STATE : Q_ATTEMPTS_SWEEP)
                     : (state ? Q_ATTEMPTS_STATE : Q_ATTEMPTS_ALL);
    sqlite3_stmt *st = s_stmt(self, q);
    if (st) {
        if (sweep_id)
            sqlite3_bind_int64(st, 1, sweep_id);
        if (state)
            s_bind_text(st, 2, state);
    }
    return s_query(self, st, s_attempt_row, (s_any_fn *)fn, arg);
}

int coord_db_attempt_get(coord_db_t *self, int64_t id, coord_db_attempt_fn *fn, void *arg)
{
    assert(self && fn);
    sqlite3_stmt *st = s_stmt(self, Q_ATTEMPT_GET);
    if (st)
        sqlite3_bind_int64(st, 1, id);
    return s_query(self, st, s_attempt_row, (s_any_fn *)fn, arg);
}

int coord_db_attempt_insert(coord_db_t *self, int64_t trial_id, int fold,
                            const char *worker_id, int64_t now_unix_ms, int64_t *id_out)
{
    assert(self && id_out);
    sqlite3_stmt *st = s_write(self, Q_ATTEMPT_INSERT);
    if (!st)
        return SW_EDB;
    sqlite3_bind_int64(st, 1, trial_id);
    sqlite3_bind_int(st, 2, fold);
    s_bind_text(st, 3, worker_id);
    sqlite3_bind_int64(st, 4, now_unix_ms);
    if (s_exec_stmt(self, st))
        return SW_EDB;
    *id_out = sqlite3_last_insert_rowid(self->db);
    return 0;
}

int coord_db_attempt_update(coord_db_t *self, const coord_db_attempt_t *row)
{
    assert(self && row && row->state);
    sqlite3_stmt *st = s_write(self, Q_ATTEMPT_UPDATE);
    if (!st)
        return SW_EDB;
    sqlite3_bind_int64(st, 1, row->id);
    s_bind_text(st, 2, row->state);
    s_bind_text(st, 3, row->metrics);
    s_bind_double(st, 4, row->value);
    s_bind_text(st, 5, row->error);
    s_bind_text(st, 6, row->kind);
    if (row->last_step >= 0)
        sqlite3_bind_int64(st, 7, row->last_step);
    else
        sqlite3_bind_null(st, 7);
    s_bind_ms(st, 8, row->finished_unix_ms);
    return s_exec_stmt(self, st);
}

/* ---- reports ---- */

int coord_db_report_insert(coord_db_t *self, int64_t attempt_id, int64_t step,
                           const char *metrics, int64_t now_unix_ms)
{
    assert(self && metrics);
    sqlite3_stmt *st = s_write(self, Q_REPORT_INSERT);
    if (!st)
        return SW_EDB;
    sqlite3_bind_int64(st, 1, attempt_id);
    sqlite3_bind_int64(st, 2, step);
    s_bind_text(st, 3, metrics);
    sqlite3_bind_int64(st, 4, now_unix_ms);
    return s_exec_stmt(self, st) ? SW_EDB : 0;
}

static int s_report_row(sqlite3_stmt *st, s_any_fn *fn, void *arg)
{
    return ((coord_db_report_fn *)fn)(sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1),
                                       sqlite3_column_int64(st, 2), s_col_text(st, 3), arg);
}

int coord_db_reports(coord_db_t *self, int64_t sweep_id, coord_db_report_fn *fn, void *arg)
{
    assert(self && fn);
    sqlite3_stmt *st = s_stmt(self, Q_REPORTS_SWEEP);
    if (st)
        sqlite3_bind_int64(st, 1, sweep_id);
    return s_query(self, st, s_report_row, (s_any_fn *)fn, arg);
}

int coord_db_report_count(coord_db_t *self, int64_t attempt_id, int64_t *n_out)
{
    assert(self && n_out);
    sqlite3_stmt *st = s_stmt(self, Q_REPORT_COUNT);
    if (!st)
        return SW_EDB;
    sqlite3_bind_int64(st, 1, attempt_id);
    int rc = sqlite3_step(st);
    *n_out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : SW_EDB;
}

/* ---- workers ---- */

static int s_worker_row(sqlite3_stmt *st, s_any_fn *fn, void *arg)
{
    coord_db_worker_t r = {
        .id = s_col_text(st, 0),
        .host = s_col_text(st, 1),
        .pid = sqlite3_column_int64(st, 2),
        .slots = sqlite3_column_int64(st, 3),
        .first_seen_unix_ms = sqlite3_column_int64(st, 4),
        .last_seen_unix_ms = sqlite3_column_int64(st, 5),
        .state = s_col_text(st, 6),
    };
    return ((coord_db_worker_fn *)fn)(&r, arg);
}

int coord_db_workers(coord_db_t *self, coord_db_worker_fn *fn, void *arg)
{
    assert(self && fn);
    return s_query(self, s_stmt(self, Q_WORKERS), s_worker_row, (s_any_fn *)fn, arg);
}

int coord_db_worker_upsert(coord_db_t *self, const char *id, const char *host, int64_t pid,
                           int64_t slots, int64_t now_unix_ms)
{
    assert(self && id);
    sqlite3_stmt *st = s_write(self, Q_WORKER_UPSERT);
    if (!st)
        return SW_EDB;
    s_bind_text(st, 1, id);
    s_bind_text(st, 2, host);
    sqlite3_bind_int64(st, 3, pid);
    sqlite3_bind_int64(st, 4, slots);
    sqlite3_bind_int64(st, 5, now_unix_ms);
    return s_exec_stmt(self, st) ? SW_EDB : 0;
}

int coord_db_worker_seen(coord_db_t *self, const char *id, int64_t now_unix_ms)
{
    assert(self && id);
    sqlite3_stmt *st = s_write(self, Q_WORKER_SEEN);
    if (!st)
        return SW_EDB;
    s_bind_text(st, 1, id);
    sqlite3_bind_int64(st, 2, now_unix_ms);
    return s_exec_stmt(self, st) ? SW_EDB : 0;
}

int coord_db_worker_set_state(coord_db_t *self, const char *id, const char *state)
{
    assert(self && id && state);
    sqlite3_stmt *st = s_write(self, Q_WORKER_STATE);
    if (!st)
        return SW_EDB;
    s_bind_text(st, 1, id);
    s_bind_text(st, 2, state);
    return s_exec_stmt(self, st) ? SW_EDB : 0;
}

/* ---- worker keys ---- */

static int s_worker_key_row(sqlite3_stmt *st, s_any_fn *fn, void *arg)
{
    coord_db_worker_key_t r = {
        .worker_id = s_col_text(st, 0),
        .public_key = s_col_text(st, 1),
        .bound_unix_ms = sqlite3_column_int64(st, 2),
    };
    return ((coord_db_worker_key_fn *)fn)(&r, arg);
}

int coord_db_worker_keys(coord_db_t *self, coord_db_worker_key_fn *fn, void *arg)
{
    assert(self && fn);
    return s_query(self, s_stmt(self, Q_WORKER_KEYS), s_worker_key_row, (s_any_fn *)fn, arg);
}

int coord_db_worker_key_bind(coord_db_t *self, const char *worker_id, const char *public_key,
                             int64_t now_unix_ms)
{
    assert(self && worker_id && public_key);
    sqlite3_stmt *st = s_write(self, Q_WORKER_KEY_BIND);
    if (!st)
        return SW_EDB;
    s_bind_text(st, 1, worker_id);
    s_bind_text(st, 2, public_key);
    sqlite3_bind_int64(st, 3, now_unix_ms);
    return s_exec_stmt(self, st);
}

/* ---- events ---- */

int coord_db_event_add(coord_db_t *self, int64_t sweep_id, int64_t now_unix_ms,
                       const char *kind, const char *detail)
{
    assert(self && kind);
    sqlite3_stmt *st = s_write(self, Q_EVENT_ADD);
    if (!st)
        return SW_EDB;
    if (sweep_id)
        sqlite3_bind_int64(st, 1, sweep_id);
    else
        sqlite3_bind_null(st, 1);
    sqlite3_bind_int64(st, 2, now_unix_ms);
    s_bind_text(st, 3, kind);
    s_bind_text(st, 4, detail);
    return s_exec_stmt(self, st) ? SW_EDB : 0;
}

static int s_event_row(sqlite3_stmt *st, s_any_fn *fn, void *arg)
{
    coord_db_event_t r = {
        .id = sqlite3_column_int64(st, 0),
        .sweep_id = sqlite3_column_int64(st, 1),
        .unix_ms = sqlite3_column_int64(st, 2),
        .kind = s_col_text(st, 3),
        .detail = s_col_text(st, 4),
    };
    return ((coord_db_event_fn *)fn)(&r, arg);
}

int coord_db_events(coord_db_t *self, int64_t sweep_id, const char *kind,
                    coord_db_event_fn *fn, void *arg)
{
    assert(self && fn);
    sqlite3_stmt *st = s_stmt(self, Q_EVENTS);
    if (st) {
        sqlite3_bind_int64(st, 1, sweep_id);
        s_bind_text(st, 2, kind);
    }
    return s_query(self, st, s_event_row, (s_any_fn *)fn, arg);
}

int coord_db_events_recent(coord_db_t *self, int64_t sweep_id, int64_t limit,
                           coord_db_event_fn *fn, void *arg)
{
    assert(self && fn);
    sqlite3_stmt *st = s_stmt(self, Q_EVENTS_RECENT);
    if (st) {
        sqlite3_bind_int64(st, 1, sweep_id);
        sqlite3_bind_int64(st, 2, limit);
    }
    return s_query(self, st, s_event_row, (s_any_fn *)fn, arg);
}

int coord_db_integrity_check(coord_db_t *self, char *msg, size_t len)
{
    assert(self && msg && len > 0);
    sqlite3_stmt *st = NULL;
    msg[0] = 0;
    if (sqlite3_prepare_v2(self->db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK) {
        snprintf(msg, len, "%s", sqlite3_errmsg(self->db));
        return SW_EDB;
    }
    int rc = sqlite3_step(st), bad = 0;
    for (; rc == SQLITE_ROW; rc = sqlite3_step(st)) {
        const char *line = (const char *)sqlite3_column_text(st, 0);
        if (!line || strcmp(line, "ok")) {
            if (!bad)
                snprintf(msg, len, "%s", line ? line : "?");
            bad++;
        }
    }
    if (rc != SQLITE_DONE) {
        snprintf(msg, len, "%s", sqlite3_errmsg(self->db));
        sqlite3_finalize(st);
        return SW_EDB;
    }
    sqlite3_finalize(st);
    if (!bad)
        snprintf(msg, len, "ok");
    return bad;
}
