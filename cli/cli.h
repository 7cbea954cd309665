/*  cli.h - the subcommands of the single `sweepd` binary
 *
 *  Each subcommand lives in cli/cmd_<name>.c and has the signature of cli_cmd_fn:
 *  it parses its own arguments (ARGV[0] is the subcommand name), builds the objects
 *  it needs, runs, tears down, and returns the process exit status. Only cli/
 *  decides exit statuses:
 *
 *      0  success
 *      1  runtime failure (the sweep could not run, a peer or the database failed)
 *      2  usage error or bad input (unknown flag, invalid spec, unreadable dataset)
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#ifndef CLI_H
#define CLI_H

#include <stdbool.h>
#include <stdint.h>

#include <czmq.h>

#include "common/sw_log.h"
#include "common/sw_spec.h"
#include "proto/proto.h"

#define CLI_EXIT_OK      0
#define CLI_EXIT_FAILURE 1
#define CLI_EXIT_USAGE   2

typedef int (cli_cmd_fn)(int argc, char **argv);

cli_cmd_fn cli_cmd_run;
cli_cmd_fn cli_cmd_coordinator;
cli_cmd_fn cli_cmd_worker;
cli_cmd_fn cli_cmd_status;
cli_cmd_fn cli_cmd_trials;
cli_cmd_fn cli_cmd_best;
cli_cmd_fn cli_cmd_train;
cli_cmd_fn cli_cmd_refit;
cli_cmd_fn cli_cmd_predict;
cli_cmd_fn cli_cmd_validate;
cli_cmd_fn cli_cmd_check;
cli_cmd_fn cli_cmd_keygen;
cli_cmd_fn cli_cmd_submit;
cli_cmd_fn cli_cmd_cancel;
cli_cmd_fn cli_cmd_resume;

/* Absolute path of the running sweepd binary (from /proc/self/exe), so a worker can
 * start `sweepd train` and `sweepd run` can start workers. Static buffer. */
const char *cli_self_exe(void);

/* Load the spec at PATH and check it as `sweepd validate` does: sw_spec_load(), then,
 * for an mlp trainer, trn_config_check() on its trainer object and parameters. Every
 * fault is printed on stderr, one per line, prefixed with PATH. Returns the spec
 * (caller owns; sw_spec_destroy) or NULL when it is not valid. */
sw_spec_t *cli_load_spec(const char *path);

/* Parse TEXT as an interval in milliseconds, 1..86400000 (one day), into *MS;
 * 0, or -1 when it is not such a number (*MS untouched). */
int cli_parse_ms(const char *text, uint64_t *ms);

/* Parse a log level name (error, warn, notice, info, debug) into *LEVEL; 0, or -1 when
 * unknown (*LEVEL untouched). */
int cli_parse_log_level(const char *name, sw_log_level_t *level);

/* Load the CURVE certificate at PATH given to OPTION of subcommand CMD (a secret one
 * when NEED_SECRET: NAME.key_secret from `sweepd keygen`). Returns it (caller owns;
 * zcert_destroy) or NULL after printing "sweepd CMD: OPTION: reason" on stderr
 * (missing, unreadable, not a certificate, no secret key). */
zcert_t *cli_load_cert(const char *cmd, const char *option, const char *path, bool need_secret);

/* Secure by default: whether subcommand CMD may BIND (or connect to) ENDPOINT. A
 * malformed endpoint is refused; a network endpoint (sw_curve_endpoint_scope) without
 * CURVE is refused unless INSECURE; loopback, ipc:// and inproc:// are always allowed.
 * FIX names the options that turn CURVE on (e.g. "--curve-secret FILE and
 * --curve-allow DIR"). Returns 0, or CLI_EXIT_USAGE after printing one line that
 * names the endpoint, the reason and the fix on stderr. A network endpoint allowed by
 * INSECURE is logged as a notice. */
int cli_check_endpoint(const char *cmd, const char *endpoint, bool bind, bool curve,
                       bool insecure, const char *fix);

/* The client side of --connect for subcommand CMD (status, submit, cancel, resume):
 * CURVE_SECRET (--curve-secret) and COORD_KEY (--coordinator-key) go together;
 * ENDPOINT must pass cli_check_endpoint (plaintext to another host only with
 * INSECURE). Loads the certificates into *CERT_OUT and *SERVER_OUT (caller owns;
 * zcert_destroy; both NULL without CURVE). Returns 0, or CLI_EXIT_USAGE after printing
 * why on stderr. */
int cli_client_keys(const char *cmd, const char *endpoint, const char *curve_secret,
                    const char *coord_key, bool insecure, zcert_t **cert_out,
                    zcert_t **server_out);

/* One request and its reply on the coordinator at ENDPOINT: a fresh DEALER (a CURVE
 * client when CERT and SERVER are given), send *MSG_P (consumed: *MSG_P = NULL), wait
 * at most TIMEOUT_MS (ms) for one answer. Returns the decoded reply (caller owns; it
 * may be ERROR: the caller reads it), or NULL after printing "sweepd CMD: ..." on
 * stderr: cannot connect or send, no answer in time (and why, when the socket monitor
 * saw a failed CURVE handshake), or a malformed answer. */
proto_msg_t *cli_request(const char *cmd, const char *endpoint, proto_msg_t **msg_p,
                         zcert_t *cert, zcert_t *server, int timeout_ms);

#endif
