/*  sw_curve.h - CURVE security helpers: endpoint scope, certificates, handshake
 *  monitor, ZAP handler
 *
 *  sweepd secures its ZeroMQ links with CURVE (RFC 26, CurveZMQ) through czmq's zcert
 *  and its own ZAP handler (RFC 27). This module holds what the coordinator, the
 *  worker and the CLI share:
 *
 *  - sw_curve_endpoint_scope(): whether an endpoint can be reached only from this host
 *    (ipc://, inproc://, tcp on a loopback address) or from the network. The CLI
 *    refuses plaintext on network endpoints unless told --insecure.
 *  - sw_curve_cert_load(): read a certificate written by `sweepd keygen` (zcert_save)
 *    with a clear reason when the file is missing, unreadable or not a certificate.
 *  - sw_curve_monitor_t: a ZeroMQ socket monitor watched on a libuv loop that logs
 *    every failed handshake (refused key, plaintext peer, wrong server key) as one
 *    warning line naming the peer and the reason, rate-limited.
 *  - sw_curve_keydir_t: a directory of public certificates, read again when it
 *    changes; sw_curve_role(): what a key may do (worker, or operator: sweep control).
 *  - sw_curve_auth_t: the coordinator's ZAP handler (RFC 27) on the allow and operators
 *    directories, which logs each refused client with its public key.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#ifndef SW_CURVE_H
#define SW_CURVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <czmq.h>
#include <uv.h>

#define SW_CURVE_KEY_TXT_LEN   40       /* a Z85-encoded CURVE key, without the NUL */
#define SW_CURVE_LOG_KEY_MS    10000    /* one line per (peer address, reason) per 10 s */
#define SW_CURVE_LOG_BURST     10       /* and at most 10 lines per 10 s in all */

/* Where an endpoint can be reached from. */
typedef enum {
    SW_CURVE_SCOPE_INVALID = -1,    /* not an endpoint sweepd understands */
    SW_CURVE_SCOPE_LOCAL = 0,       /* this host only: ipc://, inproc://, tcp on
                                       127.0.0.0/8, ::1 or localhost */
    SW_CURVE_SCOPE_NETWORK = 1      /* other hosts too: tcp on any other address,
                                       a wildcard (*, 0.0.0.0, ::), a host or
                                       interface name, pgm/epgm/norm/udp/ws */
} sw_curve_scope_t;

/* Classify ENDPOINT (a ZeroMQ endpoint string, may be NULL) by who can reach it.
 * Pure: no name resolution, so any host name other than "localhost" counts as
 * NETWORK. "tcp://HOST:PORT" needs PORT to be 1..65535, "*" or "!"; an IPv6 HOST is
 * written in brackets ("tcp://[::1]:5555"); a "SOURCE;HOST:PORT" connect endpoint is
 * classified by HOST. "ipc://PATH" and "inproc://NAME" need a non-empty rest.
 * Returns SW_CURVE_SCOPE_INVALID for NULL, an empty string, a missing or unknown
 * transport, a missing host or port, a bad port, or an unclosed bracket. */
sw_curve_scope_t sw_curve_endpoint_scope(const char *endpoint);

/* Load the certificate at PATH (a file written by zcert_save: NAME.key holds the
 * public key, NAME.key_secret both keys). With NEED_SECRET the file must hold a
 * secret key. Returns the certificate (caller owns; zcert_destroy) or NULL with a
 * one-line reason naming PATH in ERR (ERRLEN bytes, always terminated; ERR may be
 * NULL): the file is missing or unreadable (with strerror), holds no valid 40-character
 * Z85 public key, is a directory or larger than 64 KiB, or (NEED_SECRET) holds no
 * secret key, e.g. NAME.key given where NAME.key_secret is wanted, or a secret key
 * that does not belong to its public key (zmq_curve_public). The file is parsed as zconfig text (at most 64 KiB);
 * PATH alone is read (unlike zcert_load, which prefers PATH + "_secret"). */
zcert_t *sw_curve_cert_load(const char *path, bool need_secret, char *err, size_t errlen);

/* Describe a failed-handshake monitor event in words, into BUF (LEN bytes, always
 * terminated). EVENT is ZMQ_EVENT_HANDSHAKE_FAILED_AUTH (VALUE: the ZAP status code,
 * 400 = key refused), ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL (VALUE: a
 * ZMQ_PROTOCOL_ERROR_* code) or ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL (VALUE: an errno).
 * SERVER: the description is written from the coordinator's side (true) or from a
 * client's (false). Returns BUF. Pure. */
const char *sw_curve_event_describe(int event, uint32_t value, bool server,
                                    char *buf, size_t len);

typedef struct sw_curve_monitor sw_curve_monitor_t;

/* Watch SOCK (a zsock_t * or a libzmq socket; borrowed, must outlive the monitor or be
 * closed first) for handshake events on LOOP (borrowed) and log each failed handshake
 * as one warning line: on a SERVER socket "CURVE handshake refused peer=ADDR:PORT
 * reason=..." (the peer's address, read from the accepted connection's descriptor when
 * its ACCEPTED event is read, or "unknown" when libzmq had closed that descriptor by
 * then, as it often does with a peer refused in one round trip, e.g. a plaintext one;
 * never the address of a later socket that reuses the descriptor), on a client socket
 * "CURVE handshake with ENDPOINT failed reason=..." (ENDPOINT copied; may be NULL).
 * Lines are rate-limited: a (peer address, reason) pair is logged at most once per
 * SW_CURVE_LOG_KEY_MS, and no more than SW_CURVE_LOG_BURST lines per
 * SW_CURVE_LOG_KEY_MS in all; each line says how many were suppressed since.
 * The monitor's PAIR socket is watched through its ZMQ_FD (edge-triggered, drained
 * with ZMQ_DONTWAIT) and has no high-water mark, so libzmq never blocks writing an
 * event. Returns the monitor (caller owns; sw_curve_monitor_close) or
 * NULL when the monitor cannot be set up (logged; the socket works unmonitored). */
sw_curve_monitor_t *sw_curve_monitor_new(uv_loop_t *loop, void *sock, bool server,
                                         const char *endpoint);

/* Whether a server monitor logs ZAP refusals (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH); true
 * by default. A coordinator behind sw_curve_auth turns it off: the handler logs each
 * refusal itself, naming the refused key, and the monitor only counts it. NULL is
 * fine. */
void sw_curve_monitor_set_log_auth(sw_curve_monitor_t *self, bool log);

/* Failed handshakes seen so far (logged or suppressed). */
int64_t sw_curve_monitor_failures(const sw_curve_monitor_t *self);

/* Read the events already queued (log them) and stop logging. *SELF_P is set to
 * NULL; NULL is fine. Call it before the monitored socket is destroyed or after; both
 * work, but the monitor lets go only once the socket is destroyed: until then it keeps
 * reading (and drops) the socket's events, since libzmq's I/O thread blocks on a
 * monitor event nobody reads, stalling every socket of the process. Its handle closes,
 * and its memory is freed, when the destroyed socket's MONITOR_STOPPED is read: the
 * loop must run (UV_RUN_DEFAULT returns then) after the socket is destroyed. */
void sw_curve_monitor_close(sw_curve_monitor_t **self_p);

typedef struct sw_curve_keydir sw_curve_keydir_t;

#define SW_CURVE_RACY_MS 1000   /* a file stamped less than this before a scan is racy */

/* What a CURVE client's key may do on the coordinator. */
typedef enum {
    SW_CURVE_ROLE_NONE = 0,     /* not listed: refused at the handshake */
    SW_CURVE_ROLE_WORKER = 1,   /* join as a worker (HELLO, REPORT, RESULT) and read STATUS */
    SW_CURVE_ROLE_OPS = 2       /* that, and control sweeps: SUBMIT, CANCEL-SWEEP,
                                   RESUME-SWEEP */
} sw_curve_role_t;

/* Whether a file stamped MTIME_NS (ns since the epoch, st_mtim) is "racily clean"
 * against a scan that began at SCAN_NS (ns since the epoch, CLOCK_REALTIME): true
 * when the file is not older than the scan by SW_CURVE_RACY_MS or more (MTIME_NS >
 * SCAN_NS - 1 s, a future time included). File times advance once per kernel tick
 * (or per second on some file systems), so such a file can be rewritten in place with
 * the same size and still show the time the scan saw; its directory is read again on
 * the next lookup. The rule is git's (Documentation/technical/racy-git.txt), with a
 * one-second margin instead of git's index timestamp. Pure. */
bool sw_curve_file_racy(int64_t mtime_ns, int64_t scan_ns);

/* A directory of public certificates (a CURVE key list), read now and read again on
 * a later lookup when it changed. DIR (copied): files named *_secret and hidden files
 * skipped, subdirectories searched 4 levels deep, each file read with
 * sw_curve_cert_load (one that is not a certificate is logged once per change of the
 * directory, and skipped; a key found in two files is simply listed); a missing
 * directory lists no key. A change is seen from the files' count, sizes, times (to the
 * nanosecond) and inodes: any file added, removed, replaced or changed. A file whose
 * time is racy at a load (sw_curve_file_racy) makes every later lookup read the
 * directory again until a load finds no racy file, about SW_CURVE_RACY_MS after the
 * last change; otherwise a lookup costs one stat() per file. LABEL (copied; NULL for
 * quiet) names the list in the info line logged when a load changes the keys, "CURVE
 * LABEL loaded dir=DIR keys=N". Not thread-safe: one thread uses one key directory.
 * Returns the key directory (caller owns; sw_curve_keydir_destroy) or NULL (out of
 * memory). */
sw_curve_keydir_t *sw_curve_keydir_new(const char *dir, const char *label);

/* Whether KEY (Z85 text, 40 characters) is listed, after reading the directory again
 * when it changed or was racy. False for NULL SELF, NULL KEY or a key of another
 * length. */
bool sw_curve_keydir_has(sw_curve_keydir_t *self, const char *key);

/* Keys listed at the last load (0 for NULL). */
size_t sw_curve_keydir_size(const sw_curve_keydir_t *self);

/* How many times the files were read so far (the first load counts 1): a lookup of an
 * unchanged directory without racy files reads none. 0 for NULL. */
int64_t sw_curve_keydir_loads(const sw_curve_keydir_t *self);

/* The directory (borrowed, valid until destroy; NULL for NULL). */
const char *sw_curve_keydir_dir(const sw_curve_keydir_t *self);

/* Free the key directory; *SELF_P is set to NULL; NULL is fine. */
void sw_curve_keydir_destroy(sw_curve_keydir_t **self_p);

/* The role of KEY (Z85 text) given the allow list ALLOW and the operators list OPS
 * (either may be NULL; both are looked up, so each may be read again): OPS when KEY is
 * in OPS; when KEY is only in ALLOW, WORKER if there is an operators list and OPS if
 * there is none (every allowed key controls sweeps); otherwise NONE (also for a NULL
 * key or one that is not 40 characters). */
sw_curve_role_t sw_curve_role(sw_curve_keydir_t *allow, sw_curve_keydir_t *ops, const char *key);

/* "operator", "worker" or "none". Pure; the string is static. */
const char *sw_curve_role_name(sw_curve_role_t role);

typedef struct sw_curve_auth sw_curve_auth_t;

/* Start the process's ZAP handler (RFC 27, a REP socket bound at
 * inproc://zeromq.zap.01 in czmq's context, served by its own thread) in place of
 * czmq's zauth: a CURVE client is let in when its public key is listed in the allow
 * directory ALLOW_DIR or in the operators directory OPS_DIR (both copied; OPS_DIR may
 * be NULL), each a sw_curve_keydir_t, so a key added while the process runs is let in
 * without a restart. The handler does not decide what a key may do: it only lets it in;
 * the server asks sw_curve_role with its own key directories. A let-in client's ZAP
 * User-Id is its key (Z85), which the server reads as frame metadata "User-Id". A
 * refused client is logged as one warning line, "CURVE handshake refused peer=ADDR
 * key=KEY reason=client key not in the allow list (ZAP status 400) suppressed=N"
 * (ADDR: the client's IP address, without port), at most once per (address, key) per
 * SW_CURVE_LOG_KEY_MS and SW_CURVE_LOG_BURST lines per SW_CURVE_LOG_KEY_MS in all. ZAP
 * requests of the NULL mechanism are allowed (as by zauth), of any other mechanism
 * refused; a malformed request gets status 500. Start it before a CURVE server socket
 * binds: without a handler, libzmq lets every CURVE client in. Plaintext clients never
 * reach it: a CURVE server socket refuses them during the handshake (mechanism
 * mismatch). Returns the handler (caller owns; sw_curve_auth_destroy, after the server
 * sockets are closed) or NULL when it cannot start (out of memory; another handler is
 * bound in this process: logged). */
sw_curve_auth_t *sw_curve_auth_new(const char *allow_dir, const char *ops_dir);

/* Stop the handler's thread and unbind it; *SELF_P is set to NULL; NULL is fine. */
void sw_curve_auth_destroy(sw_curve_auth_t **self_p);

#endif
