/*  sw_curve.c - CURVE security helpers: endpoint scope, certificates, handshake
 *  monitor, ZAP handler
 *
 *  The monitor follows zmq_socket_monitor(3): the monitored socket publishes events
 *  on an inproc PAIR endpoint, as two frames (2-byte event id + 4-byte value, then the
 *  endpoint). A refused client shows up on the server as ACCEPTED(fd), then
 *  HANDSHAKE_FAILED_*(reason), then DISCONNECTED(fd): the peer address is taken with
 *  getpeername() when ACCEPTED is read and the failure is logged at the DISCONNECTED
 *  of the same descriptor. ZMQ_FD is edge-triggered (ENVIRONMENT.md), so every
 *  wake-up drains the PAIR socket with ZMQ_DONTWAIT until ZMQ_EVENTS shows no POLLIN.
 *
 *  libzmq writes monitor events from its I/O thread with a blocking send, holding the
 *  socket's monitor lock: if the reading PAIR is gone (or its pipe full) while the
 *  monitored socket lives, the next event (a client that connects or leaves) blocks
 *  that thread for good, and with it every socket of the context, and the socket's
 *  own teardown. So the reading PAIR has no high-water mark and is destroyed only after
 *  the monitored socket said MONITOR_STOPPED (sent when it is destroyed), whether the
 *  monitor is closed before or after its socket.
 *
 *  The ZAP handler follows RFC 27 (ZAP) like czmq's zauth, which it replaces in the
 *  coordinator for two reasons: zauth cannot say which key it refused (the monitor
 *  knows only the peer's address), and its certificate store aborts the process
 *  (an assert in zcertstore_insert) when two files of the allow directory hold the
 *  same public key. It runs in its own thread (a zactor), so handshakes never wait
 *  for the coordinator's loop.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "common/sw_curve.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/sw_log.h"
#include "common/sw_mem.h"
#include "common/sw_zmq.h"

/* ---- endpoint scope ---- */

static bool s_valid_port(const char *p)
{
    if (!strcmp(p, "*") || !strcmp(p, "!"))
        return true;
    if (!*p || strlen(p) > 5)
        return false;
    long v = 0;
    for (const char *c = p; *c; c++) {
        if (!isdigit((unsigned char)*c))
            return false;
        v = v * 10 + (*c - '0');
    }
    return v >= 1 && v <= 65535;
}

static sw_curve_scope_t s_tcp_scope(const char *rest)
{
    const char *semi = strrchr(rest, ';');
    if (semi)
        rest = semi + 1;            /* "source;host:port": the destination decides */
    char host[256];
    const char *port;
    if (rest[0] == '[') {
        const char *close = strchr(rest, ']');
        if (!close || close[1] != ':' || (size_t)(close - rest - 1) >= sizeof host
            || close == rest + 1)
            return SW_CURVE_SCOPE_INVALID;
        memcpy(host, rest + 1, (size_t)(close - rest - 1));
        host[close - rest - 1] = 0;
        port = close + 2;
        if (!s_valid_port(port))
            return SW_CURVE_SCOPE_INVALID;
        struct in6_addr a6;
        if (inet_pton(AF_INET6, host, &a6) != 1)
            return SW_CURVE_SCOPE_INVALID;
        if (IN6_IS_ADDR_LOOPBACK(&a6))
            return SW_CURVE_SCOPE_LOCAL;
        if (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127)
            return SW_CURVE_SCOPE_LOCAL;
        return SW_CURVE_SCOPE_NETWORK;
    }
    const char *colon = strrchr(rest, ':');
    if (!colon || colon == rest || (size_t)(colon - rest) >= sizeof host)
        return SW_CURVE_SCOPE_INVALID;
    memcpy(host, rest, (size_t)(colon - rest));
    host[colon - rest] = 0;
    port = colon + 1;
    if (!s_valid_port(port) || strchr(host, ':'))
        return SW_CURVE_SCOPE_INVALID;     /* IPv6 without brackets is ambiguous */
    if (!strcmp(host, "*"))
        return SW_CURVE_SCOPE_NETWORK;
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return ((const uint8_t *)&a4.s_addr)[0] == 127 ? SW_CURVE_SCOPE_LOCAL
                                                        : SW_CURVE_SCOPE_NETWORK;
    for (const char *c = host; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-' && *c != '_')
            return SW_CURVE_SCOPE_INVALID;
    if (!strcasecmp(host, "localhost"))
        return SW_CURVE_SCOPE_LOCAL;
    return SW_CURVE_SCOPE_NETWORK;         /* a host or interface name */
}

sw_curve_scope_t sw_curve_endpoint_scope(const char *endpoint)
{
    if (!endpoint)
        return SW_CURVE_SCOPE_INVALID;
    const char *sep = strstr(endpoint, "://");
    if (!sep || sep == endpoint)
        return SW_CURVE_SCOPE_INVALID;
    size_t tlen = (size_t)(sep - endpoint);
    const char *rest = sep + 3;
    if (!*rest)
        return SW_CURVE_SCOPE_INVALID;
    if ((tlen == 3 && !strncmp(endpoint, "ipc", 3))
        || (tlen == 6 && !strncmp(endpoint, "inproc", 6)))
        return SW_CURVE_SCOPE_LOCAL;
    if (tlen == 3 && !strncmp(endpoint, "tcp", 3))
        return s_tcp_scope(rest);
    static const char *const net[] = {"pgm", "epgm", "norm", "udp", "ws", "wss", "vmci", "tipc"};
    for (size_t i = 0; i < sizeof net / sizeof net[0]; i++)
        if (tlen == strlen(net[i]) && !strncmp(endpoint, net[i], tlen))
            return SW_CURVE_SCOPE_NETWORK;
    return SW_CURVE_SCOPE_INVALID;
}

/* ---- certificates ---- */

#define S_CERT_MAX 65536            /* bytes; a zcert file is well under 1 KiB */

static void s_err(char *err, size_t errlen, const char *fmt, const char *path, const char *why)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, path, why);
}

static bool s_z85_key(const char *txt)
{
    if (!txt || strlen(txt) != SW_CURVE_KEY_TXT_LEN)
        return false;
    uint8_t bin[32];
    return zmq_z85_decode(bin, txt) != NULL;
}

zcert_t *sw_curve_cert_load(const char *path, bool need_secret, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = 0;
    if (!path || !*path) {
        s_err(err, errlen, "%s%s", "", "no certificate file given");
        return NULL;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        s_err(err, errlen, "cannot read certificate '%s': %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        s_err(err, errlen, "cannot read certificate '%s': %s", path,
              "it is a directory, not a NAME.key file");
        return NULL;
    }
    /* read and parse it here rather than with zcert_load, which leaks on a syntax
     * error and silently prefers PATH_secret when that file exists */
    char *text = calloc(1, S_CERT_MAX + 1);
    size_t n = text ? fread(text, 1, S_CERT_MAX + 1, f) : 0;
    bool too_big = n > S_CERT_MAX;
    fclose(f);
    if (too_big) {
        free(text);
        s_err(err, errlen, "'%s' is not a CURVE certificate (%s)", path,
              "it is larger than 65536 bytes; a certificate is under 1 KiB");
        return NULL;
    }
    zconfig_t *root = text && !too_big && n > 0 ? zconfig_str_load(text) : NULL;
    free(text);
    const char *pub = root ? zconfig_get(root, "curve/public-key", NULL) : NULL;
    const char *sec = root ? zconfig_get(root, "curve/secret-key", NULL) : NULL;
    if (!s_z85_key(pub)) {
        zconfig_destroy(&root);
        s_err(err, errlen, "'%s' is not a CURVE certificate (%s)", path,
              "no 40-character Z85 public-key in its curve section; make one with "
              "'sweepd keygen NAME'");
        return NULL;
    }
    if (!s_z85_key(sec)) {
        if (need_secret) {
            zconfig_destroy(&root);
            s_err(err, errlen, "'%s' holds no secret key (%s)", path,
                  "give the NAME.key_secret file that 'sweepd keygen NAME' wrote, not NAME.key");
            return NULL;
        }
        sec = "0000000000000000000000000000000000000000";   /* Z85 of 32 zero bytes */
    }
    uint8_t pub_bin[32], sec_bin[32];
    zmq_z85_decode(pub_bin, pub);
    zmq_z85_decode(sec_bin, sec);
    char derived[SW_CURVE_KEY_TXT_LEN + 1];
    if (need_secret && (zmq_curve_public(derived, sec) != 0 || strcmp(derived, pub) != 0)) {
        /* an edited or mixed file: the peers would hold a key this process cannot use */
        zconfig_destroy(&root);
        s_err(err, errlen, "'%s' is not a usable key pair (%s)", path,
              "its secret key does not belong to its public key; make a new pair with "
              "'sweepd keygen NAME'");
        return NULL;
    }
    zcert_t *cert = zcert_new_from(pub_bin, sec_bin);
    zconfig_destroy(&root);
    if (!cert)
        s_err(err, errlen, "cannot load '%s': %s", path, "out of memory");
    return cert;
}

/* ---- event descriptions ---- */

const char *sw_curve_event_describe(int event, uint32_t value, bool server, char *buf, size_t len)
{
    if (!buf || !len)
        return buf;
    switch (event) {
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        if (value == 400)
            snprintf(buf, len, server ? "client key not in the allow list (ZAP status 400)"
                                      : "the coordinator refused this key (ZAP status 400): "
                                        "its public certificate is not in the coordinator's "
                                        "--curve-allow directory");
        else
            snprintf(buf, len, "authentication failed (ZAP status %u)", value);
        break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        if (value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
            snprintf(buf, len, server ? "security mechanism mismatch: the client does not use "
                                        "CURVE (plaintext or no key configured)"
                                      : "security mechanism mismatch: one side uses CURVE and "
                                        "the other plaintext");
        else if (value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC)
            snprintf(buf, len, server ? "cannot decrypt the client's handshake: the client "
                                        "uses a wrong coordinator key"
                                      : "cryptographic error in the handshake: wrong "
                                        "coordinator key or corrupted keys");
        else
            snprintf(buf, len, "protocol error 0x%08x in the handshake", value);
        break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        snprintf(buf, len, server ? "handshake failed without detail (%s)"
                                  : "the coordinator closed the connection during the "
                                    "handshake (%s): the two sides' keys disagree (a wrong "
                                    "--coordinator-key, or CURVE on one side only)",
                 value ? strerror((int)value) : "no error code");
        break;
    default:
        snprintf(buf, len, "monitor event 0x%x value %u", (unsigned)event, value);
        break;
    }
    return buf;
}

/* ---- the monitor ---- */

#define S_PEERS 64                  /* accepted connections whose address is kept */
#define S_KEYS 16                   /* (address, reason) pairs remembered for rate limits */

typedef struct {
    int fd;
    char addr[64];
} s_peer_t;

/* One monitor event read off the PAIR socket; ADDR: the peer's address, looked up
 * when an ACCEPTED was read ("" for other events). */
typedef struct {
    int event;
    uint32_t value;
    char addr[64];
} s_ev_t;

/* The rate limit of refusal lines: one line per (who, event, value) every
 * SW_CURVE_LOG_KEY_MS, and SW_CURVE_LOG_BURST lines per SW_CURVE_LOG_KEY_MS in all.
 * Used by the monitor (who: the peer's address) and the ZAP handler (who: the peer's
 * address and key), each with its own state. */
typedef struct {
    char who[112];
    int event;
    uint32_t value;
    uint64_t logged_ms;
    int64_t suppressed;
} s_key_t;

typedef struct {
    s_key_t keys[S_KEYS];
    uint64_t window_ms;             /* start of the global budget window */
    int window_lines;
    int64_t window_suppressed;
} s_limit_t;

/* Whether a line for (WHO, EVENT, VALUE) may be written at NOW_MS (monotonic ms);
 * when it may, *SUPPRESSED is set to the lines left out before it. */
static bool s_limit_pass(s_limit_t *l, uint64_t now, const char *who, int event,
                         uint32_t value, int64_t *suppressed)
{
    s_key_t *k = NULL, *oldest = &l->keys[0];
    for (size_t i = 0; i < S_KEYS; i++) {
        s_key_t *c = &l->keys[i];
        if (c->logged_ms && c->event == event && c->value == value && !strcmp(c->who, who)) {
            k = c;
            break;
        }
        if (c->logged_ms < oldest->logged_ms)
            oldest = c;
    }
    if (k && now - k->logged_ms < SW_CURVE_LOG_KEY_MS) {
        k->suppressed++;
        return false;
    }
    if (now - l->window_ms >= SW_CURVE_LOG_KEY_MS || !l->window_ms) {
        l->window_ms = now ? now : 1;
        l->window_lines = 0;
    }
    if (l->window_lines >= SW_CURVE_LOG_BURST) {
        l->window_suppressed++;
        if (k)
            k->suppressed++;
        return false;
    }
    l->window_lines++;
    *suppressed = (k ? k->suppressed : 0) + l->window_suppressed;
    l->window_suppressed = 0;
    if (!k) {
        k = oldest;
        snprintf(k->who, sizeof k->who, "%s", who);
        k->event = event;
        k->value = value;
    }
    k->logged_ms = now ? now : 1;
    k->suppressed = 0;
    return true;
}

struct sw_curve_monitor {
    uv_loop_t *loop;
    uv_poll_t poll;
    zsock_t *pair;                  /* receives the events */
    void *sock;                     /* the monitored socket (libzmq handle) */
    char *endpoint;
    bool server;
    bool pending;                   /* a failure waits for its DISCONNECTED */
    int pending_event;
    uint32_t pending_value;
    s_peer_t peers[S_PEERS];
    size_t next_peer;
    s_ev_t *batch;                  /* the events of one drain */
    size_t batch_cap;
    s_limit_t limit;
    bool log_auth;                  /* log ZAP refusals (else only count them) */
    int64_t failures;
    bool closing;                   /* sw_curve_monitor_close was called */
    bool stopped;                   /* MONITOR_STOPPED read: nothing more will come */
};

/* Format the peer (PEER) or local address of FD as ADDR:PORT ("[ADDR]:PORT" for IPv6,
 * "local" for another family) into OUT; "unknown" when it has none. */
static void s_name_of(int fd, bool peer, char *out, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char ip[INET6_ADDRSTRLEN] = "";
    if ((peer ? getpeername(fd, (struct sockaddr *)&ss, &sl)
              : getsockname(fd, (struct sockaddr *)&ss, &sl)) != 0) {
        snprintf(out, len, "unknown");
        return;
    }
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        snprintf(out, len, "%s:%u", ip, (unsigned)ntohs(a->sin_port));
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        snprintf(out, len, "[%s]:%u", ip, (unsigned)ntohs(a->sin6_port));
    } else {
        snprintf(out, len, "local");
    }
}

/* The peer address of the connection accepted on FD, whose local endpoint libzmq
 * gave as LOCAL ("tcp://ADDR:PORT", read from the descriptor while it was open), into
 * OUT; "unknown" when FD is closed, or now holds another socket (its local address is
 * not LOCAL: a connection this process made, say). A TCP connection accepted on the
 * same listener since is told apart by s_batch_run. */
static void s_addr_of(int fd, const char *local, char *out, size_t len)
{
    char here[80];
    s_name_of(fd, false, here, sizeof here);
    if (!strncmp(local, "tcp://", 6) && strcmp(local + 6, here) != 0) {
        snprintf(out, len, "unknown");
        return;
    }
    s_name_of(fd, true, out, len);
}

static s_peer_t *s_peer(sw_curve_monitor_t *self, int fd)
{
    for (size_t i = 0; i < S_PEERS; i++)
        if (self->peers[i].fd == fd && self->peers[i].addr[0])
            return &self->peers[i];
    return NULL;
}

/* The address without its port, for the rate-limit key. */
static void s_ip_of(const char *addr, char *ip, size_t len)
{
    snprintf(ip, len, "%s", addr);
    char *colon = strrchr(ip, ':');
    if (colon && colon != ip)
        *colon = 0;
}

static void s_log_failure(sw_curve_monitor_t *self, const char *peer, int event, uint32_t value)
{
    self->failures++;
    if (self->server && !self->log_auth && event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        return;                     /* the ZAP handler logged it, with the key */
    char ip[48];
    s_ip_of(peer, ip, sizeof ip);
    int64_t suppressed = 0;
    if (!s_limit_pass(&self->limit, uv_now(self->loop), ip, event, value, &suppressed))
        return;
    char why[256];
    sw_curve_event_describe(event, value, self->server, why, sizeof why);
    if (self->server)
        sw_log_warn("CURVE handshake refused peer=%s reason=%s suppressed=%lld", peer, why,
                    (long long)suppressed);
    else
        sw_log_warn("CURVE handshake with %s failed reason=%s suppressed=%lld", peer, why,
                    (long long)suppressed);
}

/* Handle one event; ADDR: the address looked up when an ACCEPTED was read. */
static void s_event(sw_curve_monitor_t *self, int event, uint32_t value, const char *addr)
{
    if (event == ZMQ_EVENT_MONITOR_STOPPED) {
        self->stopped = true;
        return;
    }
    if (self->closing)
        return;                     /* read only to keep the sender unblocked */
    switch (event) {
    case ZMQ_EVENT_ACCEPTED: {
        s_peer_t *p = &self->peers[self->next_peer++ % S_PEERS];
        p->fd = (int)value;
        snprintf(p->addr, sizeof p->addr, "%s", addr && *addr ? addr : "unknown");
        break;
    }
    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        self->pending = false;
        sw_log_debug("CURVE handshake ok %s", self->server ? "(server)" : self->endpoint);
        break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        if (!self->server) {
            s_log_failure(self, self->endpoint, event, value);
            break;
        }
        if (self->pending)      /* two failures without a DISCONNECTED between */
            s_log_failure(self, "unknown", self->pending_event, self->pending_value);
        self->pending = true;
        self->pending_event = event;
        self->pending_value = value;
        break;
    case ZMQ_EVENT_DISCONNECTED: {
        s_peer_t *p = self->server ? s_peer(self, (int)value) : NULL;
        if (self->pending) {
            s_log_failure(self, p ? p->addr : "unknown", self->pending_event,
                          self->pending_value);
            self->pending = false;
        }
        if (p)
            p->addr[0] = 0;
        break;
    }
    default:
        break;
    }
}

/* Handle the first N events of the batch in order. An accepted descriptor that is
 * accepted again later in the batch was closed, and its number reused, possibly before
 * its address was looked up: that address may be the later connection's, so the first
 * connection's peer is "unknown" rather than maybe another's. (A reuse before the
 * lookup is always caught: the DISCONNECTED and the second ACCEPTED were queued before
 * it, and a drain reads until the queue is empty.) */
static void s_batch_run(sw_curve_monitor_t *self, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        s_ev_t *e = &self->batch[i];
        if (e->event != ZMQ_EVENT_ACCEPTED)
            continue;
        for (size_t j = i + 1; j < n; j++)
            if (self->batch[j].event == ZMQ_EVENT_ACCEPTED && self->batch[j].value == e->value) {
                snprintf(e->addr, sizeof e->addr, "unknown");
                break;
            }
    }
    for (size_t i = 0; i < n; i++)
        s_event(self, self->batch[i].event, self->batch[i].value, self->batch[i].addr);
}

/* Read every queued event, then handle them. The peer's address is looked up with
 * getpeername() as soon as its ACCEPTED is read: libzmq's I/O thread closes the
 * descriptor of a refused connection one round trip after accepting it (a plaintext
 * client is refused on its greeting), often before this loop reads the event, and the
 * address of a closed descriptor is gone ("unknown"); the v1 monitor events of libzmq
 * 4.3 do not carry it. */
static void s_drain(sw_curve_monitor_t *self)
{
    void *pair = zsock_resolve(self->pair);
    size_t n = 0;
    int events;
    while ((events = sw_zmq_events(self->pair)) > 0 && (events & ZMQ_POLLIN)) {
        zmq_msg_t head, addr;
        zmq_msg_init(&head);
        if (zmq_msg_recv(&head, pair, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&head);
            if (zmq_errno() == EINTR)
                continue;
            break;
        }
        int event = -1;
        uint32_t value = 0;
        if (zmq_msg_size(&head) >= 6) {
            const uint8_t *d = zmq_msg_data(&head);
            uint16_t ev;
            memcpy(&ev, d, 2);
            memcpy(&value, d + 2, 4);
            event = ev;
        }
        char local[80] = "";                /* the endpoint frame */
        while (zmq_msg_more(&head)) {
            zmq_msg_init(&addr);
            int rc = zmq_msg_recv(&addr, pair, ZMQ_DONTWAIT);
            bool more = rc >= 0 && zmq_msg_more(&addr);
            if (rc >= 0 && !local[0]) {
                size_t m = zmq_msg_size(&addr) < sizeof local ? zmq_msg_size(&addr)
                                                              : sizeof local - 1;
                memcpy(local, zmq_msg_data(&addr), m);
                local[m] = 0;
            }
            zmq_msg_close(&addr);
            if (!more)
                break;
        }
        zmq_msg_close(&head);
        if (event < 0)
            continue;
        s_ev_t one = {.event = event, .value = value};
        if (event == ZMQ_EVENT_ACCEPTED && self->server && !self->closing)
            s_addr_of((int)value, local, one.addr, sizeof one.addr);   /* now, before any wait */
        if (sw_grow((void **)&self->batch, &self->batch_cap, n + 1, sizeof one, 16) != 0) {
            s_batch_run(self, n);          /* no memory: handle what we have, then this */
            n = 0;
            s_event(self, one.event, one.value, one.addr);
            continue;
        }
        self->batch[n++] = one;
    }
    s_batch_run(self, n);
}

static void s_close_cb(uv_handle_t *h);

/* Once closing and stopped: stop watching; the memory goes in s_close_cb. */
static void s_maybe_finish(sw_curve_monitor_t *self)
{
    if (!self->closing || !self->stopped || uv_is_closing((uv_handle_t *)&self->poll))
        return;
    uv_poll_stop(&self->poll);
    uv_close((uv_handle_t *)&self->poll, s_close_cb);
}

static void s_poll_cb(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    sw_curve_monitor_t *self = h->data;
    s_drain(self);
    s_maybe_finish(self);
}

sw_curve_monitor_t *sw_curve_monitor_new(uv_loop_t *loop, void *sock, bool server,
                                         const char *endpoint)
{
    static unsigned s_seq;
    sw_curve_monitor_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = loop;
    self->server = server;
    self->log_auth = true;
    self->sock = zsock_resolve(sock);
    self->endpoint = strdup(endpoint ? endpoint : "coordinator");
    char name[64];
    snprintf(name, sizeof name, "inproc://sw-curve-monitor-%ld-%u", (long)getpid(), ++s_seq);
    int events = ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED
                 | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                 | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_MONITOR_STOPPED;
    /* The reader first (an inproc connect may precede the bind), without a high-water
     * mark, so that the monitor's blocking sends, MONITOR_STOPPED included, always find
     * room; then the monitor. */
    self->pair = self->endpoint ? zsock_new(ZMQ_PAIR) : NULL;
    if (self->pair)
        zsock_set_rcvhwm(self->pair, 0);
    if (!self->pair || zsock_connect(self->pair, "%s", name) != 0
        || zmq_socket_monitor(self->sock, name, events) != 0) {
        sw_log_warn("cannot monitor the socket's handshakes: %s", zmq_strerror(zmq_errno()));
        zsock_destroy(&self->pair);
        free(self->endpoint);
        free(self);
        return NULL;
    }
    if (uv_poll_init(loop, &self->poll, zsock_fd(self->pair)) != 0) {
        sw_log_warn("cannot monitor the socket's handshakes: %s", zmq_strerror(zmq_errno()));
        zmq_socket_monitor(self->sock, NULL, 0);    /* MONITOR_STOPPED finds the reader */
        zsock_destroy(&self->pair);
        free(self->endpoint);
        free(self);
        return NULL;
    }
    self->poll.data = self;
    uv_poll_start(&self->poll, UV_READABLE, s_poll_cb);
    s_drain(self);
    return self;
}

void sw_curve_monitor_set_log_auth(sw_curve_monitor_t *self, bool log)
{
    if (self)
        self->log_auth = log;
}

int64_t sw_curve_monitor_failures(const sw_curve_monitor_t *self)
{
    return self ? self->failures : 0;
}

static void s_close_cb(uv_handle_t *h)
{
    sw_curve_monitor_t *self = h->data;
    zsock_destroy(&self->pair);
    free(self->batch);
    free(self->endpoint);
    free(self);
}

void sw_curve_monitor_close(sw_curve_monitor_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sw_curve_monitor_t *self = *self_p;
    *self_p = NULL;
    s_drain(self);
    if (self->pending && self->server)
        s_log_failure(self, "unknown", self->pending_event, self->pending_value);
    self->pending = false;
    /* The socket may still be open (its I/O thread still writes events): keep reading,
     * silently, until it says MONITOR_STOPPED; destroying the reader now would block
     * that thread at the socket's next event. */
    self->closing = true;
    s_maybe_finish(self);
}

/* ---- the ZAP handler ---- */

#define S_ZAP_ENDPOINT "inproc://zeromq.zap.01"     /* fixed by RFC 27 */
#define S_ALLOW_DEPTH 4             /* subdirectories of a key directory searched */

/* What a scan of a key directory saw: a change in any field means reload. File times
 * are compared to the nanosecond (zcertstore's loader sees whole seconds). */
typedef struct {
    int64_t files;
    int64_t bytes;
    int64_t mtime_ns;               /* sum over the files */
    uint64_t inodes;                /* sum over the files (a file replaced by rename) */
} s_allow_sig_t;

struct sw_curve_keydir {
    char *dir;                      /* the directory */
    char *label;                    /* "allow list", ...; NULL: loads logged at debug */
    zhash_t *keys;                  /* Z85 public key -> certificate path (autofree) */
    s_allow_sig_t sig;              /* what the last load saw */
    bool racy;                      /* a file of the last load may change unseen */
    bool loaded;
    int64_t loads;
};

bool sw_curve_file_racy(int64_t mtime_ns, int64_t scan_ns)
{
    /* mtime_ns > scan_ns - window, written so that it cannot overflow: with
     * scan_ns > mtime_ns their difference fits in 64 unsigned bits */
    if (mtime_ns >= scan_ns)
        return true;
    return (uint64_t)scan_ns - (uint64_t)mtime_ns < (uint64_t)SW_CURVE_RACY_MS * 1000000u;
}

/* Walk DIR (DEPTH levels deep at most) adding every regular file, hidden files and
 * NAME_secret files aside, to SIG and, when KEYS is not NULL, its public key to KEYS
 * (a file that is not a certificate is skipped, and logged when LOG) and whether its
 * time is racy against SCAN_NS to *RACY. */
static void s_allow_scan(const char *dir, int depth, s_allow_sig_t *sig, zhash_t *keys,
                         int64_t scan_ns, bool *racy, bool log)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path)
            continue;
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth < S_ALLOW_DEPTH)
                s_allow_scan(path, depth + 1, sig, keys, scan_ns, racy, log);
            continue;
        }
        size_t n = strlen(e->d_name);
        if (!S_ISREG(st.st_mode) || (n >= 7 && !strcmp(e->d_name + n - 7, "_secret")))
            continue;
        int64_t mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        sig->files++;
        sig->bytes += st.st_size;
        sig->mtime_ns += mtime_ns;
        sig->inodes += st.st_ino;
        if (!keys)
            continue;
        if (sw_curve_file_racy(mtime_ns, scan_ns))
            *racy = true;
        char err[512];
        zcert_t *cert = sw_curve_cert_load(path, false, err, sizeof err);
        if (!cert) {
            if (log)
                sw_log_warn("key directory: %s; file skipped", err);
            continue;
        }
        zhash_update(keys, zcert_public_txt(cert), path);   /* a duplicate is harmless */
        zcert_destroy(&cert);
    }
    closedir(d);
}

/* Whether A and B list the same keys. */
static bool s_same_keys(zhash_t *a, zhash_t *b)
{
    if (!a || !b || zhash_size(a) != zhash_size(b))
        return false;
    for (void *v = zhash_first(a); v; v = zhash_next(a))
        if (!zhash_lookup(b, zhash_cursor(a)))
            return false;
    return true;
}

/* Reload the keys when the directory changed since the last load, or when a file of
 * the last load was racy (git's "racily clean" rule, Documentation/technical/
 * racy-git.txt): its time was not older than the load by SW_CURVE_RACY_MS, so a
 * same-size rewrite in the same clock tick would leave the signature as it was. */
static void s_keydir_refresh(sw_curve_keydir_t *self)
{
    s_allow_sig_t sig = {0};
    s_allow_scan(self->dir, 0, &sig, NULL, 0, NULL, false);
    bool changed = !self->loaded || memcmp(&sig, &self->sig, sizeof sig);
    if (!changed && !self->racy)
        return;
    zhash_t *keys = zhash_new();
    if (!keys)
        return;                     /* keep the old list */
    zhash_autofree(keys);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);    /* before any file is read */
    int64_t scan_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    bool racy = false;
    memset(&sig, 0, sizeof sig);
    /* a racy reload of an unchanged directory does not repeat its warnings */
    s_allow_scan(self->dir, 0, &sig, keys, scan_ns, &racy, changed);
    bool same = self->loaded && s_same_keys(keys, self->keys);
    zhash_destroy(&self->keys);
    self->keys = keys;
    self->sig = sig;
    self->racy = racy;
    self->loaded = true;
    self->loads++;
    if (same)
        return;
    if (self->label)
        sw_log_info("CURVE %s loaded dir=%s keys=%zu", self->label, self->dir, zhash_size(keys));
    else
        sw_log_debug("CURVE key directory loaded dir=%s keys=%zu", self->dir, zhash_size(keys));
}

sw_curve_keydir_t *sw_curve_keydir_new(const char *dir, const char *label)
{
    assert(dir);
    sw_curve_keydir_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->dir = strdup(dir);
    self->label = label ? strdup(label) : NULL;
    if (!self->dir || (label && !self->label)) {
        sw_curve_keydir_destroy(&self);
        return NULL;
    }
    s_keydir_refresh(self);
    return self;
}

bool sw_curve_keydir_has(sw_curve_keydir_t *self, const char *key)
{
    if (!self || !key || strlen(key) != SW_CURVE_KEY_TXT_LEN)
        return false;
    s_keydir_refresh(self);
    return self->keys && zhash_lookup(self->keys, key);
}

size_t sw_curve_keydir_size(const sw_curve_keydir_t *self)
{
    return self && self->keys ? zhash_size(self->keys) : 0;
}

int64_t sw_curve_keydir_loads(const sw_curve_keydir_t *self)
{
    return self ? self->loads : 0;
}

const char *sw_curve_keydir_dir(const sw_curve_keydir_t *self)
{
    return self ? self->dir : NULL;
}

void sw_curve_keydir_destroy(sw_curve_keydir_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sw_curve_keydir_t *self = *self_p;
    zhash_destroy(&self->keys);
    free(self->dir);
    free(self->label);
    free(self);
    *self_p = NULL;
}

sw_curve_role_t sw_curve_role(sw_curve_keydir_t *allow, sw_curve_keydir_t *ops, const char *key)
{
    if (!key || strlen(key) != SW_CURVE_KEY_TXT_LEN)
        return SW_CURVE_ROLE_NONE;
    if (ops && sw_curve_keydir_has(ops, key))
        return SW_CURVE_ROLE_OPS;
    if (allow && sw_curve_keydir_has(allow, key))
        return ops ? SW_CURVE_ROLE_WORKER : SW_CURVE_ROLE_OPS;
    return SW_CURVE_ROLE_NONE;
}

const char *sw_curve_role_name(sw_curve_role_t role)
{
    switch (role) {
    case SW_CURVE_ROLE_OPS: return "operator";
    case SW_CURVE_ROLE_WORKER: return "worker";
    default: return "none";
    }
}

typedef struct {
    char *allow_dir, *ops_dir;      /* as given to sw_curve_auth_new (ops_dir may be NULL) */
} s_auth_args_t;

typedef struct {
    zsock_t *handler;               /* REP bound at S_ZAP_ENDPOINT */
    sw_curve_keydir_t *allow;       /* --curve-allow */
    sw_curve_keydir_t *ops;         /* --curve-allow-ops, or NULL */
    s_limit_t limit;
} s_auth_t;

struct sw_curve_auth {
    zactor_t *actor;
    s_auth_args_t args;
};

/* Answer one ZAP request (RFC 27): version, request id, domain, address, identity,
 * mechanism, credentials. CURVE: 200 when the client's key is listed in the allow or
 * the operators directory (User-Id = the key, Z85), else 400, logged with the key.
 * NULL (a socket of this process without security): 200, as zauth. Any other
 * mechanism: 400. Malformed: 500. */
static void s_zap_handle(s_auth_t *self)
{
    zmsg_t *req = zmsg_recv(self->handler);
    if (!req)
        return;
    char *version = zmsg_popstr(req), *id = zmsg_popstr(req), *domain = zmsg_popstr(req);
    char *address = zmsg_popstr(req), *identity = zmsg_popstr(req);
    char *mechanism = zmsg_popstr(req);
    zframe_t *cred = zmsg_pop(req);
    const char *status = "400", *text = "No access";
    char key[SW_CURVE_KEY_TXT_LEN + 1] = "";
    const char *peer = address && *address ? address : "local";
    if (!version || strcmp(version, "1.0") || !id || !mechanism) {
        status = "500";
        text = "Malformed request";
        sw_log_warn("malformed ZAP request refused version=%s", version ? version : "none");
    } else if (!strcmp(mechanism, "CURVE") && cred && zframe_size(cred) == 32) {
        zmq_z85_encode(key, zframe_data(cred), 32);
        sw_curve_role_t role = sw_curve_role(self->allow, self->ops, key);
        if (role != SW_CURVE_ROLE_NONE) {
            status = "200";
            text = "OK";
            sw_log_debug("CURVE client allowed peer=%s key=%s role=%s", peer, key,
                         sw_curve_role_name(role));
        } else {
            int64_t suppressed = 0;
            char who[112];
            snprintf(who, sizeof who, "%s %s", peer, key);
            if (s_limit_pass(&self->limit, (uint64_t)zclock_mono(), who,
                             ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 400, &suppressed)) {
                char why[128];
                sw_curve_event_describe(ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 400, true, why,
                                        sizeof why);
                sw_log_warn("CURVE handshake refused peer=%s key=%s reason=%s suppressed=%lld",
                            peer, key, why, (long long)suppressed);
            }
            key[0] = 0;
        }
    } else if (!strcmp(mechanism, "NULL")) {
        status = "200";
        text = "OK";
    } else {
        sw_log_debug("ZAP request refused peer=%s mechanism=%s", peer, mechanism);
    }
    zstr_sendx(self->handler, "1.0", id ? id : "", status, text, key, "", NULL);
    zframe_destroy(&cred);
    zstr_free(&version);
    zstr_free(&id);
    zstr_free(&domain);
    zstr_free(&address);
    zstr_free(&identity);
    zstr_free(&mechanism);
    zmsg_destroy(&req);
}

/* The actor: signals 0 when started (zactor_new), then 0 or -1 once the handler is
 * bound (or cannot be), then serves ZAP requests until $TERM. */
static void s_auth_actor(zsock_t *pipe, void *args)
{
    const s_auth_args_t *a = args;
    s_auth_t self = {0};
    zsock_signal(pipe, 0);
    self.handler = zsock_new(ZMQ_REP);
    bool ok = self.handler && zsock_bind(self.handler, S_ZAP_ENDPOINT) == 0;
    if (ok) {
        self.allow = sw_curve_keydir_new(a->allow_dir, "allow list");
        self.ops = a->ops_dir ? sw_curve_keydir_new(a->ops_dir, "operators list") : NULL;
        if (!self.allow || (a->ops_dir && !self.ops)) {
            sw_log_error("cannot start the CURVE authenticator: out of memory");
            zsock_unbind(self.handler, S_ZAP_ENDPOINT);
            ok = false;
        }
    } else {
        sw_log_error("cannot start the CURVE authenticator on %s: %s", S_ZAP_ENDPOINT,
                     zmq_strerror(zmq_errno()));
    }
    zsock_signal(pipe, ok ? 0 : 1);
    zpoller_t *poller = ok ? zpoller_new(pipe, self.handler, NULL) : zpoller_new(pipe, NULL);
    while (poller) {
        void *which = zpoller_wait(poller, -1);
        if (which == pipe) {
            char *cmd = zstr_recv(pipe);
            bool term = !cmd || !strcmp(cmd, "$TERM");
            zstr_free(&cmd);
            if (term)
                break;
        } else if (which == self.handler) {
            s_zap_handle(&self);
        } else if (zmq_errno() != EINTR || zsys_interrupted) {
            break;      /* no timeout is set: ETERM, or a socket closed under us (czmq
                           closes what is left at exit); looping would spin */
        }
    }
    zpoller_destroy(&poller);
    if (ok)
        zsock_unbind(self.handler, S_ZAP_ENDPOINT);
    zsock_destroy(&self.handler);
    sw_curve_keydir_destroy(&self.ops);
    sw_curve_keydir_destroy(&self.allow);
}

sw_curve_auth_t *sw_curve_auth_new(const char *allow_dir, const char *ops_dir)
{
    assert(allow_dir);
    sw_curve_auth_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->args.allow_dir = strdup(allow_dir);
    self->args.ops_dir = ops_dir ? strdup(ops_dir) : NULL;
    if (!self->args.allow_dir || (ops_dir && !self->args.ops_dir)) {
        sw_curve_auth_destroy(&self);
        return NULL;
    }
    /* the actor reads ARGS until it is destroyed; they live as long as SELF */
    self->actor = zactor_new(s_auth_actor, &self->args);
    if (!self->actor || zsock_wait(self->actor) != 0) {
        sw_curve_auth_destroy(&self);
        return NULL;
    }
    return self;
}

void sw_curve_auth_destroy(sw_curve_auth_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zactor_destroy(&(*self_p)->actor);
    free((*self_p)->args.allow_dir);
    free((*self_p)->args.ops_dir);
    free(*self_p);
    *self_p = NULL;
}
