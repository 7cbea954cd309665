/*  test_sw_curve.c - endpoint scope, certificate loading, handshake monitor, ZAP handler
 *
 *  The monitor test uses real sockets on 127.0.0.1, a real zauth allow-list
 *  directory and a real libuv loop: a client whose key is not listed must show up
 *  as one refused handshake, a listed one as none; a monitor closed while its socket
 *  still serves must not stall the process's sockets. The ZAP handler test does the
 *  same behind sw_curve_auth, and reads the refusal line it writes to stderr. A
 *  plaintext peer whose connection the server has closed before the monitor reads
 *  its events (a raw TCP client that reads to EOF first) must be logged, as
 *  peer=unknown, and never under the address of a later connection holding the
 *  reused descriptor. The key directories are checked for what each lookup reads: an
 *  unchanged directory is not read again, one whose file was stamped racily (times set
 *  with utimensat, never waited for) is, so a same-size rewrite in place under the same
 *  time is seen; the roles follow the allow and operators lists exactly.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "tests/test_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/sw_curve.h"
#include "common/sw_log.h"

static void test_scope(void **state)
{
    (void)state;
    assert_int_equal(sw_curve_endpoint_scope("tcp://127.0.0.1:5555"), SW_CURVE_SCOPE_LOCAL);
    assert_int_equal(sw_curve_endpoint_scope("tcp://127.3.2.1:5555"), SW_CURVE_SCOPE_LOCAL);
    assert_int_equal(sw_curve_endpoint_scope("tcp://localhost:1"), SW_CURVE_SCOPE_LOCAL);
    assert_int_equal(sw_curve_endpoint_scope("tcp://LocalHost:1"), SW_CURVE_SCOPE_LOCAL);
    assert_int_equal(sw_curve_endpoint_scope("tcp://[::1]:5"), SW_CURVE_SCOPE_LOCAL);
    assert_int_equal(sw_curve_endpoint_scope("tcp://127.0.0.1:*"), SW_CURVE_SCOPE_LOCAL);
    assert_int_equal(sw_curve_endpoint_scope("ipc:///tmp/x"), SW_CURVE_SCOPE_LOCAL);
    assert_int_equal(sw_curve_endpoint_scope("inproc://x"), SW_CURVE_SCOPE_LOCAL);
    assert_int_equal(sw_curve_endpoint_scope("tcp://*:5555"), SW_CURVE_SCOPE_NETWORK);
    assert_int_equal(sw_curve_endpoint_scope("tcp://0.0.0.0:5"), SW_CURVE_SCOPE_NETWORK);
    assert_int_equal(sw_curve_endpoint_scope("tcp://10.0.0.2:5555"), SW_CURVE_SCOPE_NETWORK);
    assert_int_equal(sw_curve_endpoint_scope("tcp://[::]:5555"), SW_CURVE_SCOPE_NETWORK);
    assert_int_equal(sw_curve_endpoint_scope("tcp://[fe80::1]:5555"), SW_CURVE_SCOPE_NETWORK);
    assert_int_equal(sw_curve_endpoint_scope("tcp://eth0:5555"), SW_CURVE_SCOPE_NETWORK);
    assert_int_equal(sw_curve_endpoint_scope("tcp://gpu-node-3.example:5555"),
                     SW_CURVE_SCOPE_NETWORK);
    assert_int_equal(sw_curve_endpoint_scope("tcp://127.0.0.1:0;10.0.0.2:5555"),
                     SW_CURVE_SCOPE_NETWORK);
    assert_int_equal(sw_curve_endpoint_scope("epgm://eth0;239.1.1.1:5555"),
                     SW_CURVE_SCOPE_NETWORK);
    /* malformed */
    static const char *const bad[] = {
        "", "tcp://", "tcp://127.0.0.1", "tcp://127.0.0.1:", "127.0.0.1:5555",
        "tcp://:5555", "tcp://127.0.0.1:0", "tcp://127.0.0.1:65536", "tcp://127.0.0.1:55x",
        "tcp://[::1:5", "tcp://[::1]5", "tcp://[]:5", "tcp://::1:5", "tcp://a b:5",
        "ipc://", "inproc://", "://x", "foo://x", "tcp:/127.0.0.1:5",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (sw_curve_endpoint_scope(bad[i]) != SW_CURVE_SCOPE_INVALID)
            fail_msg("'%s' should be INVALID", bad[i]);
    }
    assert_int_equal(sw_curve_endpoint_scope(NULL), SW_CURVE_SCOPE_INVALID);
}

static void test_cert_load(void **state)
{
    (void)state;
    char *dir = test_mkdtemp();
    char path[512], pub[512], err[256];
    zcert_t *made = zcert_new();
    snprintf(path, sizeof path, "%s/w1.key", dir);
    assert_int_equal(zcert_save(made, path), 0);
    snprintf(pub, sizeof pub, "%s/only.key", dir);
    assert_int_equal(zcert_save_public(made, pub), 0);

    /* the secret file: both keys */
    snprintf(path, sizeof path, "%s/w1.key_secret", dir);
    zcert_t *c = sw_curve_cert_load(path, true, err, sizeof err);
    assert_non_null(c);
    assert_string_equal(zcert_public_txt(c), zcert_public_txt(made));
    assert_string_equal(zcert_secret_txt(c), zcert_secret_txt(made));
    assert_string_equal(err, "");
    zcert_destroy(&c);

    /* a public file: fine as a public key, refused as a secret one */
    c = sw_curve_cert_load(pub, false, err, sizeof err);
    assert_non_null(c);
    assert_string_equal(zcert_public_txt(c), zcert_public_txt(made));
    zcert_destroy(&c);
    assert_null(sw_curve_cert_load(pub, true, err, sizeof err));
    assert_non_null(strstr(err, "holds no secret key"));
    assert_non_null(strstr(err, "only.key"));

    /* missing, and not a certificate */
    snprintf(path, sizeof path, "%s/none.key", dir);
    assert_null(sw_curve_cert_load(path, false, err, sizeof err));
    assert_non_null(strstr(err, "cannot read certificate"));
    assert_non_null(strstr(err, "No such file"));
    char *junk = test_write_file(dir, "junk.key", "hello world\n");
    assert_null(sw_curve_cert_load(junk, false, err, sizeof err));
    assert_non_null(strstr(err, "is not a CURVE certificate"));
    char *shortkey = test_write_file(dir, "short.key", "curve\n    public-key = \"abc\"\n");
    assert_null(sw_curve_cert_load(shortkey, false, err, sizeof err));
    assert_non_null(strstr(err, "is not a CURVE certificate"));
    free(junk);
    free(shortkey);

    /* a directory, and a file over the 64 KiB limit, are named as such */
    assert_null(sw_curve_cert_load(dir, false, err, sizeof err));
    assert_non_null(strstr(err, "is a directory"));
    char *huge = calloc(1, 70000);
    assert_non_null(huge);
    memset(huge, '#', 69999);
    char *big = test_write_file(dir, "big.key", huge);
    assert_null(sw_curve_cert_load(big, false, err, sizeof err));
    assert_non_null(strstr(err, "larger than 65536 bytes"));
    free(big);
    free(huge);

    /* a secret file whose public key is another key's: refused, not used */
    zcert_t *other = zcert_new();
    char text[512];
    snprintf(text, sizeof text, "curve\n    public-key = \"%s\"\n    secret-key = \"%s\"\n",
             zcert_public_txt(other), zcert_secret_txt(made));
    char *mixed = test_write_file(dir, "mixed.key_secret", text);
    assert_null(sw_curve_cert_load(mixed, true, err, sizeof err));
    assert_non_null(strstr(err, "secret key does not belong to its public key"));
    free(mixed);
    zcert_destroy(&other);
    zcert_destroy(&made);
    test_rmtree(dir);
    free(dir);
}

static void test_describe(void **state)
{
    (void)state;
    char b[256];
    assert_non_null(strstr(sw_curve_event_describe(ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 400, true,
                                                   b, sizeof b), "not in the allow list"));
    assert_non_null(strstr(sw_curve_event_describe(ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 400, false,
                                                   b, sizeof b), "--curve-allow"));
    assert_non_null(strstr(sw_curve_event_describe(ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL,
                                                   ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH,
                                                   true, b, sizeof b), "mechanism mismatch"));
    assert_non_null(strstr(sw_curve_event_describe(ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL,
                                                   ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC,
                                                   true, b, sizeof b), "wrong coordinator key"));
    assert_string_equal(sw_curve_event_describe(ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, 0x10000001,
                                                true, b, sizeof b),
                        "protocol error 0x10000001 in the handshake");
    char tiny[8];
    sw_curve_event_describe(ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 400, true, tiny, sizeof tiny);
    assert_int_equal(strlen(tiny), 7);
}

typedef struct {
    sw_curve_monitor_t *mon;
    zsock_t *server;
    int64_t received;
    char user_id[64];               /* "User-Id" of the last message received */
    bool timed_out;
} s_fx_t;

static void s_timeout_cb(uv_timer_t *t)
{
    ((s_fx_t *)t->data)->timed_out = true;
}

/* Run LOOP until the monitor saw WANT failures or the server received a message, at
 * most 5 s (a bound, not a synchronization). */
static void s_run(uv_loop_t *loop, s_fx_t *fx, int64_t want_failures)
{
    uv_timer_t t;
    uv_timer_init(loop, &t);
    t.data = fx;
    fx->timed_out = false;
    uv_timer_start(&t, s_timeout_cb, 5000, 0);
    while (!fx->timed_out && sw_curve_monitor_failures(fx->mon) < want_failures
           && fx->received == 0) {
        uv_run(loop, UV_RUN_NOWAIT);
        zmsg_t *m = zmsg_recv_nowait(fx->server);
        if (m) {
            fx->received++;
            zframe_t *last = zmsg_last(m);
            const char *uid = last ? zframe_meta(last, "User-Id") : NULL;
            snprintf(fx->user_id, sizeof fx->user_id, "%s", uid ? uid : "");
            zmsg_destroy(&m);
        }
        zpoller_t *p = zpoller_new(fx->server, NULL);
        zpoller_wait(p, 10);            /* wait for input (bounded), not a sleep */
        zpoller_destroy(&p);
    }
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
}

static void s_stop_cb(uv_timer_t *t)
{
    *(bool *)t->data = true;
    uv_stop(t->loop);
}

/* Run LOOP until no handle is left (a closed monitor is gone once its socket said
 * MONITOR_STOPPED), at most 5 s (an unreferenced timer: a bound, not a
 * synchronization). Returns whether the loop emptied in time. */
static bool s_run_until_empty(uv_loop_t *loop)
{
    bool timed_out = false;
    uv_timer_t t;
    uv_timer_init(loop, &t);
    t.data = &timed_out;
    uv_timer_start(&t, s_stop_cb, 5000, 0);
    uv_unref((uv_handle_t *)&t);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    return !timed_out;
}

/* Connect a DEALER with CERT to the CURVE server SERVER_CERT on PORT, send "hello". */
static zsock_t *s_client(zcert_t *cert, zcert_t *server_cert, int port)
{
    zsock_t *c = zsock_new(ZMQ_DEALER);
    assert_non_null(c);
    zcert_apply(cert, c);
    zsock_set_curve_serverkey(c, zcert_public_txt(server_cert));
    zsock_set_linger(c, 0);
    assert_int_equal(zsock_connect(c, "tcp://127.0.0.1:%d", port), 0);
    zstr_send(c, "hello");
    return c;
}

/* LOOP initialised and FX set up: a CURVE ROUTER with SERVER's keys bound to a free
 * loopback port, watched by a handshake monitor on LOOP. Returns the port. */
static int s_serve(uv_loop_t *loop, s_fx_t *fx, zcert_t *server)
{
    uv_loop_init(loop);
    memset(fx, 0, sizeof *fx);
    fx->server = zsock_new(ZMQ_ROUTER);
    assert_non_null(fx->server);
    zcert_apply(server, fx->server);
    zsock_set_curve_server(fx->server, 1);
    int port = zsock_bind(fx->server, "tcp://127.0.0.1:*");
    assert_true(port > 0);
    fx->mon = sw_curve_monitor_new(loop, fx->server, true, NULL);
    assert_non_null(fx->mon);
    return port;
}

/* Send this process's stderr to a new file, LOGPATH (LEN bytes; its directory is a
 * fresh one, returned: caller frees and removes it). Returns the saved stderr for
 * s_stderr_restore(). */
static int s_stderr_capture(char *logpath, size_t len, char **logdir)
{
    *logdir = test_mkdtemp();
    snprintf(logpath, len, "%s/stderr.log", *logdir);
    fflush(stderr);
    int saved = dup(2);
    int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    return saved;
}

/* Put back the stderr SAVED by s_stderr_capture(); returns what was written to
 * LOGPATH meanwhile (caller frees). */
static char *s_stderr_restore(int saved, const char *logpath)
{
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char *log = test_read_file(logpath, NULL);
    assert_non_null(log);
    return log;
}

static void test_monitor_refused_and_allowed(void **state)
{
    (void)state;
    zsys_handler_set(NULL);
    sw_log_set_level(SW_LOG_ERROR);
    char *dir = test_mkdtemp();
    char path[512];
    zcert_t *server = zcert_new(), *ok = zcert_new(), *bad = zcert_new();
    snprintf(path, sizeof path, "%s/ok.key", dir);
    assert_int_equal(zcert_save_public(ok, path), 0);
    zactor_t *auth = zactor_new(zauth, NULL);
    assert_non_null(auth);
    zstr_sendx(auth, "CURVE", dir, NULL);
    zsock_wait(auth);

    uv_loop_t loop;
    s_fx_t fx;
    int port = s_serve(&loop, &fx, server);

    /* a client whose key is not listed: refused, nothing received */
    zsock_t *c = s_client(bad, server, port);
    s_run(&loop, &fx, 1);
    assert_false(fx.timed_out);
    assert_true(sw_curve_monitor_failures(fx.mon) >= 1);
    assert_int_equal(fx.received, 0);
    zsock_destroy(&c);

    /* a listed client: its message arrives */
    int64_t before = sw_curve_monitor_failures(fx.mon);
    c = s_client(ok, server, port);
    s_run(&loop, &fx, before + 100);
    assert_false(fx.timed_out);
    assert_int_equal(fx.received, 1);
    zsock_destroy(&c);

    /* the monitor closed while the server still serves (as the coordinator does): the
     * server's next events (each client's ACCEPTED, handshake, DISCONNECTED) must not
     * block libzmq's I/O thread, so later clients still get through */
    sw_curve_monitor_close(&fx.mon);
    assert_null(fx.mon);
    uv_run(&loop, UV_RUN_NOWAIT);
    for (int i = 0; i < 3; i++) {
        fx.received = 0;
        c = s_client(ok, server, port);
        s_run(&loop, &fx, INT64_MAX);
        assert_false(fx.timed_out);
        assert_int_equal(fx.received, 1);
        zsock_destroy(&c);
    }
    zsock_destroy(&fx.server);
    assert_true(s_run_until_empty(&loop));      /* the monitor let go at MONITOR_STOPPED */
    assert_int_equal(uv_loop_close(&loop), 0);
    zactor_destroy(&auth);
    zcert_destroy(&server);
    zcert_destroy(&ok);
    zcert_destroy(&bad);
    test_rmtree(dir);
    free(dir);
}

/* A raw TCP connection to 127.0.0.1:PORT. */
static int s_raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

/* A plaintext peer refused by mechanism mismatch whose descriptor the server closed
 * before the monitor read its ACCEPTED (the order under load): the refusal is still
 * logged, once, as peer=unknown, and not under the address of the next socket to hold
 * the same descriptor number: a connection the server accepted next (CLOSE_FIRST: the
 * refused client's own descriptor is freed first, so the new client socket takes it
 * and the server's accept the refused one's), or else this process's own connecting
 * socket (whose peer is the server's port). */
static void s_closed_before_read(bool close_first)
{
    zsys_handler_set(NULL);
    sw_log_set_level(SW_LOG_WARN);
    char *logdir, logpath[600];
    int saved = s_stderr_capture(logpath, sizeof logpath, &logdir);

    uv_loop_t loop;
    s_fx_t fx;
    zcert_t *server = zcert_new();
    int port = s_serve(&loop, &fx, server);

    /* a ZMTP 3.0 greeting of the NULL mechanism (RFC 23): signature, version 3.0,
     * mechanism "NULL" padded to 20 bytes, as-server 0, 31 bytes of filler */
    unsigned char greeting[64] = {0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3, 0, 'N', 'U', 'L', 'L'};
    int first = s_raw_connect(port);
    assert_int_equal(write(first, greeting, sizeof greeting), (ssize_t)sizeof greeting);
    char buf[256];
    ssize_t got;
    while ((got = read(first, buf, sizeof buf)) > 0)
        ;                                   /* until the server closed it: EOF or reset */
    if (close_first) {
        close(first);
        first = -1;
    }
    /* the next connection, held open: it likely takes the closed descriptor's number */
    int second = s_raw_connect(port);
    assert_int_equal(write(second, greeting, 10), 10);
    assert_int_equal(read(second, buf, 10), 10);    /* accepted: the server answers */

    s_run(&loop, &fx, 1);                   /* only now the monitor reads the events */
    assert_false(fx.timed_out);
    assert_int_equal(sw_curve_monitor_failures(fx.mon), 1);

    if (first >= 0)
        close(first);
    close(second);
    zsock_destroy(&fx.server);
    sw_curve_monitor_close(&fx.mon);
    assert_true(s_run_until_empty(&loop));
    assert_int_equal(uv_loop_close(&loop), 0);
    char *log = s_stderr_restore(saved, logpath);
    const char *want = "W: CURVE handshake refused peer=unknown reason=security mechanism "
                       "mismatch: the client does not use CURVE (plaintext or no key "
                       "configured) suppressed=0\n";
    const char *line = strstr(log, want);
    assert_non_null(line);
    assert_null(strstr(line + strlen(want), "reason=security mechanism mismatch")); /* one */
    char server_port[64];
    snprintf(server_port, sizeof server_port, "peer=127.0.0.1:%d ", port);
    assert_null(strstr(log, server_port));
    free(log);
    zcert_destroy(&server);
    test_rmtree(logdir);
    free(logdir);
}

static void test_monitor_closed_before_read(void **state)
{
    (void)state;
    s_closed_before_read(false);            /* the number reused by a connecting socket */
    s_closed_before_read(true);             /* by the next accepted connection */
}

/* The coordinator's ZAP handler: a listed key is let in with its key as User-Id; an
 * unlisted one is refused and logged with its exact key; a certificate added while
 * it runs is let in; a key in two files and a file that is no certificate do no
 * harm; a second handler in the process cannot start. */
static void test_auth_allow_list(void **state)
{
    (void)state;
    zsys_handler_set(NULL);
    sw_log_set_level(SW_LOG_WARN);
    char *dir = test_mkdtemp();
    char path[512];
    zcert_t *server = zcert_new(), *ok = zcert_new(), *bad = zcert_new(), *late = zcert_new();
    snprintf(path, sizeof path, "%s/ok.key", dir);
    assert_int_equal(zcert_save_public(ok, path), 0);
    snprintf(path, sizeof path, "%s/ok-copy.key", dir);     /* zcertstore would abort */
    assert_int_equal(zcert_save_public(ok, path), 0);
    free(test_write_file(dir, "notes.txt", "not a certificate\n"));
    snprintf(path, sizeof path, "%s/late.key_secret", dir); /* secrets are not listed */
    assert_int_equal(zcert_save_secret(late, path), 0);

    char *logdir, logpath[600];                 /* not in the allow directory */
    int saved = s_stderr_capture(logpath, sizeof logpath, &logdir);

    char *opsdir = test_mkdtemp();              /* an operator's key is let in too */
    zcert_t *op = zcert_new();
    snprintf(path, sizeof path, "%s/op.key", opsdir);
    assert_int_equal(zcert_save_public(op, path), 0);
    sw_curve_auth_t *auth = sw_curve_auth_new(dir, opsdir);
    assert_non_null(auth);
    assert_null(sw_curve_auth_new(dir, NULL));  /* the ZAP endpoint is taken */

    uv_loop_t loop;
    s_fx_t fx;
    int port = s_serve(&loop, &fx, server);
    sw_curve_monitor_set_log_auth(fx.mon, false);

    /* unlisted: refused, nothing received */
    zsock_t *c = s_client(bad, server, port);
    s_run(&loop, &fx, 1);
    assert_false(fx.timed_out);
    assert_int_equal(fx.received, 0);
    zsock_destroy(&c);

    /* listed: received, the key as User-Id */
    int64_t before = sw_curve_monitor_failures(fx.mon);
    c = s_client(ok, server, port);
    s_run(&loop, &fx, before + 100);
    assert_false(fx.timed_out);
    assert_int_equal(fx.received, 1);
    assert_string_equal(fx.user_id, zcert_public_txt(ok));
    zsock_destroy(&c);

    /* a key listed only in the operators directory: let in, its key as User-Id */
    fx.received = 0;
    c = s_client(op, server, port);
    s_run(&loop, &fx, before + 100);
    assert_false(fx.timed_out);
    assert_int_equal(fx.received, 1);
    assert_string_equal(fx.user_id, zcert_public_txt(op));
    zsock_destroy(&c);

    /* a certificate added while the handler runs is let in, no restart */
    snprintf(path, sizeof path, "%s/late.key", dir);
    assert_int_equal(zcert_save_public(late, path), 0);
    fx.received = 0;
    c = s_client(late, server, port);
    s_run(&loop, &fx, before + 100);
    assert_false(fx.timed_out);
    assert_int_equal(fx.received, 1);
    assert_string_equal(fx.user_id, zcert_public_txt(late));
    zsock_destroy(&c);

    zsock_destroy(&fx.server);                 /* the socket first (as the worker does) */
    sw_curve_monitor_close(&fx.mon);
    assert_true(s_run_until_empty(&loop));
    assert_int_equal(uv_loop_close(&loop), 0);
    sw_curve_auth_destroy(&auth);
    assert_null(auth);
    sw_curve_auth_destroy(&auth);               /* twice is fine */

    char *log = s_stderr_restore(saved, logpath);
    char want[256];
    snprintf(want, sizeof want, "W: CURVE handshake refused peer=127.0.0.1 key=%s reason=client "
             "key not in the allow list (ZAP status 400) suppressed=0\n", zcert_public_txt(bad));
    assert_non_null(strstr(log, want));
    const char *first = strstr(log, "CURVE handshake refused");
    assert_non_null(first);
    assert_null(strstr(first + 1, "CURVE handshake refused"));   /* one line, no monitor's */
    int skipped = 0;                            /* logged per load, not per handshake: */
    for (const char *p = log; (p = strstr(p, "notes.txt' is not a CURVE certificate")); p++)
        skipped++;
    assert_int_equal(skipped, 2);               /* at start, and when late.key came */
    free(log);

    zcert_destroy(&server);
    zcert_destroy(&ok);
    zcert_destroy(&bad);
    zcert_destroy(&late);
    zcert_destroy(&op);
    test_rmtree(opsdir);
    free(opsdir);
    test_rmtree(dir);
    free(dir);
    test_rmtree(logdir);
    free(logdir);
}

/* git's racily-clean rule, to the nanosecond: a file is racy unless it is older than
 * the scan by SW_CURVE_RACY_MS (1 s) or more. */
static void test_racy_rule(void **state)
{
    (void)state;
    const int64_t scan = 1800000000LL * 1000000000LL + 500;     /* ns */
    assert_int_equal(SW_CURVE_RACY_MS, 1000);
    assert_false(sw_curve_file_racy(scan - 1000000000LL, scan));     /* 1 s older */
    assert_false(sw_curve_file_racy(scan - 5000000000LL, scan));
    assert_false(sw_curve_file_racy(0, scan));
    assert_true(sw_curve_file_racy(scan - 999999999LL, scan));       /* 1 ns short */
    assert_true(sw_curve_file_racy(scan - 1, scan));
    assert_true(sw_curve_file_racy(scan, scan));                      /* same tick */
    assert_true(sw_curve_file_racy(scan + 3600000000000LL, scan));    /* future */
    assert_true(sw_curve_file_racy(INT64_MAX, INT64_MIN));            /* no overflow */
    assert_false(sw_curve_file_racy(INT64_MIN, INT64_MAX));
}

/* Set PATH's modification time to SEC.NSEC (its access time untouched). */
static void s_set_mtime(const char *path, time_t sec, long nsec)
{
    struct timespec ts[2] = {{.tv_sec = 0, .tv_nsec = UTIME_OMIT},
                             {.tv_sec = sec, .tv_nsec = nsec}};
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

/* A key directory is read again only when it changed or was racy at its last load. */
static void test_keydir_racy_reload(void **state)
{
    (void)state;
    sw_log_set_level(SW_LOG_WARN);
    char *dir = test_mkdtemp();
    char path[512];
    snprintf(path, sizeof path, "%s/a.key", dir);
    zcert_t *a = zcert_new(), *b = zcert_new(), *c = zcert_new();
    const char *ka = zcert_public_txt(a), *kb = zcert_public_txt(b), *kc = zcert_public_txt(c);
    time_t now = time(NULL);
    const time_t old = now - 100, future = now + 3600;
    struct stat st0, st1;

    /* an old file: loaded once, then a lookup costs a stat and reads nothing */
    assert_int_equal(zcert_save_public(a, path), 0);
    s_set_mtime(path, old, 123456789);
    sw_curve_keydir_t *kd = sw_curve_keydir_new(dir, "test list");
    assert_non_null(kd);
    assert_string_equal(sw_curve_keydir_dir(kd), dir);
    assert_int_equal(sw_curve_keydir_loads(kd), 1);
    assert_int_equal(sw_curve_keydir_size(kd), 1);
    assert_true(sw_curve_keydir_has(kd, ka));
    assert_false(sw_curve_keydir_has(kd, kb));
    assert_false(sw_curve_keydir_has(kd, NULL));
    assert_false(sw_curve_keydir_has(kd, "short"));
    assert_int_equal(sw_curve_keydir_loads(kd), 1);

    /* rewritten in place (same size, same inode) and stamped back to the same old
     * time: nothing a stat shows has changed, and an old file is not racy, so the
     * rewrite goes unseen (the price of a lookup without reading; git's too) */
    assert_int_equal(stat(path, &st0), 0);
    assert_int_equal(zcert_save_public(b, path), 0);
    s_set_mtime(path, old, 123456789);
    assert_int_equal(stat(path, &st1), 0);
    assert_int_equal(st0.st_size, st1.st_size);
    assert_int_equal(st0.st_ino, st1.st_ino);
    assert_true(sw_curve_keydir_has(kd, ka));
    assert_false(sw_curve_keydir_has(kd, kb));
    assert_int_equal(sw_curve_keydir_loads(kd), 1);

    /* a new time is a change: read again */
    s_set_mtime(path, old, 123456790);
    assert_true(sw_curve_keydir_has(kd, kb));
    assert_false(sw_curve_keydir_has(kd, ka));
    assert_int_equal(sw_curve_keydir_loads(kd), 2);

    /* a file stamped in the same tick as the load (here: not older than it, as a
     * future time is) is racy: rewritten in place under that same time, the next
     * lookup still reads it again and sees the new key */
    s_set_mtime(path, future, 0);
    assert_true(sw_curve_keydir_has(kd, kb));   /* changed time: load 3, racy */
    assert_int_equal(sw_curve_keydir_loads(kd), 3);
    assert_int_equal(zcert_save_public(c, path), 0);
    s_set_mtime(path, future, 0);
    assert_int_equal(stat(path, &st1), 0);
    assert_int_equal(st0.st_size, st1.st_size);
    assert_int_equal(st0.st_ino, st1.st_ino);
    assert_true(sw_curve_keydir_has(kd, kc));   /* load 4: same signature, racy */
    assert_false(sw_curve_keydir_has(kd, kb));  /* load 5: still racy */
    assert_int_equal(sw_curve_keydir_loads(kd), 5);

    /* once the file is old, the directory settles: one load, then none */
    s_set_mtime(path, old, 0);
    assert_true(sw_curve_keydir_has(kd, kc));
    assert_int_equal(sw_curve_keydir_loads(kd), 6);
    assert_true(sw_curve_keydir_has(kd, kc));
    assert_false(sw_curve_keydir_has(kd, ka));
    assert_int_equal(sw_curve_keydir_loads(kd), 6);

    /* a file added, and one removed: each read once */
    char path2[512];
    snprintf(path2, sizeof path2, "%s/sub/a.key", dir);
    snprintf(path, sizeof path, "%s/sub", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(zcert_save_public(a, path2), 0);
    s_set_mtime(path2, old, 0);
    assert_true(sw_curve_keydir_has(kd, ka));
    assert_true(sw_curve_keydir_has(kd, kc));
    assert_int_equal(sw_curve_keydir_size(kd), 2);
    assert_int_equal(sw_curve_keydir_loads(kd), 7);
    assert_int_equal(unlink(path2), 0);
    assert_false(sw_curve_keydir_has(kd, ka));
    assert_int_equal(sw_curve_keydir_size(kd), 1);
    assert_int_equal(sw_curve_keydir_loads(kd), 8);

    sw_curve_keydir_destroy(&kd);
    assert_null(kd);
    sw_curve_keydir_destroy(&kd);               /* twice is fine */
    assert_false(sw_curve_keydir_has(NULL, ka));
    assert_int_equal(sw_curve_keydir_size(NULL), 0);
    assert_int_equal(sw_curve_keydir_loads(NULL), 0);

    /* a missing directory lists no key */
    snprintf(path, sizeof path, "%s/none", dir);
    kd = sw_curve_keydir_new(path, NULL);
    assert_non_null(kd);
    assert_int_equal(sw_curve_keydir_size(kd), 0);
    assert_false(sw_curve_keydir_has(kd, ka));
    sw_curve_keydir_destroy(&kd);

    zcert_destroy(&a);
    zcert_destroy(&b);
    zcert_destroy(&c);
    test_rmtree(dir);
    free(dir);
}

/* The permission lookup: operators control sweeps; with an operators list, a key only
 * in the allow list is a worker; without one, every allowed key controls; a key added
 * to the operators list is one at the next lookup. */
static void test_role(void **state)
{
    (void)state;
    sw_log_set_level(SW_LOG_WARN);
    char *adir = test_mkdtemp(), *odir = test_mkdtemp();
    char path[512];
    zcert_t *w = zcert_new(), *o = zcert_new(), *both = zcert_new(), *x = zcert_new();
    snprintf(path, sizeof path, "%s/w.key", adir);
    assert_int_equal(zcert_save_public(w, path), 0);
    snprintf(path, sizeof path, "%s/both.key", adir);
    assert_int_equal(zcert_save_public(both, path), 0);
    snprintf(path, sizeof path, "%s/o.key", odir);
    assert_int_equal(zcert_save_public(o, path), 0);
    snprintf(path, sizeof path, "%s/both.key", odir);
    assert_int_equal(zcert_save_public(both, path), 0);
    sw_curve_keydir_t *allow = sw_curve_keydir_new(adir, NULL);
    sw_curve_keydir_t *ops = sw_curve_keydir_new(odir, NULL);
    assert_non_null(allow);
    assert_non_null(ops);
    const char *kw = zcert_public_txt(w), *ko = zcert_public_txt(o);
    const char *kb = zcert_public_txt(both), *kx = zcert_public_txt(x);

    assert_int_equal(sw_curve_role(allow, ops, kw), SW_CURVE_ROLE_WORKER);
    assert_int_equal(sw_curve_role(allow, ops, ko), SW_CURVE_ROLE_OPS);
    assert_int_equal(sw_curve_role(allow, ops, kb), SW_CURVE_ROLE_OPS);
    assert_int_equal(sw_curve_role(allow, ops, kx), SW_CURVE_ROLE_NONE);
    assert_int_equal(sw_curve_role(allow, ops, NULL), SW_CURVE_ROLE_NONE);
    assert_int_equal(sw_curve_role(allow, ops, ""), SW_CURVE_ROLE_NONE);
    /* no operators list: every allowed key controls sweeps */
    assert_int_equal(sw_curve_role(allow, NULL, kw), SW_CURVE_ROLE_OPS);
    assert_int_equal(sw_curve_role(allow, NULL, ko), SW_CURVE_ROLE_NONE);
    assert_int_equal(sw_curve_role(allow, NULL, kx), SW_CURVE_ROLE_NONE);
    /* the coordinator's question, with the operators list alone */
    assert_int_equal(sw_curve_role(NULL, ops, ko), SW_CURVE_ROLE_OPS);
    assert_int_equal(sw_curve_role(NULL, ops, kw), SW_CURVE_ROLE_NONE);
    assert_int_equal(sw_curve_role(NULL, NULL, kw), SW_CURVE_ROLE_NONE);

    /* promoted while running: x's key added to the operators directory */
    snprintf(path, sizeof path, "%s/x.key", odir);
    assert_int_equal(zcert_save_public(x, path), 0);
    assert_int_equal(sw_curve_role(allow, ops, kx), SW_CURVE_ROLE_OPS);
    /* and demoted: w's key was never an operator's, o's removed */
    snprintf(path, sizeof path, "%s/o.key", odir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(sw_curve_role(allow, ops, ko), SW_CURVE_ROLE_NONE);
    assert_int_equal(sw_curve_keydir_size(ops), 2);

    assert_string_equal(sw_curve_role_name(SW_CURVE_ROLE_OPS), "operator");
    assert_string_equal(sw_curve_role_name(SW_CURVE_ROLE_WORKER), "worker");
    assert_string_equal(sw_curve_role_name(SW_CURVE_ROLE_NONE), "none");

    sw_curve_keydir_destroy(&allow);
    sw_curve_keydir_destroy(&ops);
    zcert_destroy(&w);
    zcert_destroy(&o);
    zcert_destroy(&both);
    zcert_destroy(&x);
    test_rmtree(adir);
    test_rmtree(odir);
    free(adir);
    free(odir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scope),
        cmocka_unit_test(test_cert_load),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_monitor_refused_and_allowed),
        cmocka_unit_test(test_monitor_closed_before_read),
        cmocka_unit_test(test_auth_allow_list),
        cmocka_unit_test(test_racy_rule),
        cmocka_unit_test(test_keydir_racy_reload),
        cmocka_unit_test(test_role),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
