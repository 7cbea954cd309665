/*  cmd_keygen.c - `sweepd keygen`: make a CURVE certificate pair
 *
 *  Writes DIR/NAME.key (the public certificate: copy it to the peers that must know
 *  this key, e.g. the coordinator's --curve-allow directory) and DIR/NAME.key_secret
 *  (both keys, mode 0600: stays on this host) with czmq's zcert_save, and prints the
 *  public key (Z85) on stdout. Existing files are never overwritten without --force.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <czmq.h>

#include "cli/cli.h"

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: sweepd keygen NAME [--dir DIR] [--force]\n\n"
            "Make a CURVE key pair for a coordinator, a worker or a status client:\n"
            "DIR/NAME.key is the public certificate (give it to the peers: a worker's or\n"
            "status client's goes into the coordinator's --curve-allow directory, the\n"
            "coordinator's is every worker's --coordinator-key), DIR/NAME.key_secret holds\n"
            "the secret key too (mode 0600; --curve-secret of its owner, never copied).\n"
            "The public key is printed on stdout.\n\n"
            "  --dir DIR   where to write (default: the current directory; created 0700\n"
            "              when missing)\n"
            "  --force     overwrite existing files\n\n"
            "exit status: 0 written, 1 cannot write, 2 usage error or files exist\n");
}

static bool s_valid_name(const char *name)
{
    if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
        return false;
    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        if (*c == '/' || *c == '"' || *c < ' ' || *c == 0x7f)
            return false;
    return true;
}

int cli_cmd_keygen(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"force", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = ".";
    bool force = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:fh", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'f': force = true; break;
        case 'h': s_usage(stdout); return CLI_EXIT_OK;
        default: s_usage(stderr); return CLI_EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "sweepd keygen: give exactly one NAME\n");
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[optind];
    if (!s_valid_name(name)) {
        fprintf(stderr, "sweepd keygen: '%s' is not a valid NAME (not empty, not '.' or '..', "
                "no '/', no double quote, no control character)\n", name);
        return CLI_EXIT_USAGE;
    }
    char pub[4096], sec[4096 + 8];
    if (snprintf(pub, sizeof pub, "%s/%s.key", dir, name) >= (int)sizeof pub) {
        fprintf(stderr, "sweepd keygen: path too long\n");
        return CLI_EXIT_USAGE;
    }
    snprintf(sec, sizeof sec, "%s_secret", pub);
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno != ENOENT || mkdir(dir, 0700) != 0) {
            fprintf(stderr, "sweepd keygen: cannot create directory '%s': %s\n", dir,
                    strerror(errno));
            return CLI_EXIT_FAILURE;
        }
    } else if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "sweepd keygen: '%s' is not a directory\n", dir);
        return CLI_EXIT_USAGE;
    }
    if (!force) {
        const char *exists = access(pub, F_OK) == 0 ? pub : access(sec, F_OK) == 0 ? sec : NULL;
        if (exists) {
            fprintf(stderr, "sweepd keygen: '%s' exists; not overwriting a key (peers may "
                    "trust it). Use --force to replace it, or choose another NAME\n", exists);
            return CLI_EXIT_USAGE;
        }
    }
    zsys_handler_set(NULL);
    zcert_t *cert = zcert_new();
    if (!cert) {
        fprintf(stderr, "sweepd keygen: cannot make a key pair\n");
        return CLI_EXIT_FAILURE;
    }
    char created[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    zcert_set_meta(cert, "name", "%s", name);
    zcert_set_meta(cert, "created-by", "sweepd keygen");
    zcert_set_meta(cert, "created", "%s", created);
    /* no window in which the secret file is readable by others: umask first, then chmod */
    mode_t old = umask(077);
    int rc = zcert_save(cert, pub);
    umask(old);
    if (rc == 0)
        rc = chmod(sec, 0600) == 0 && chmod(pub, 0644) == 0 ? 0 : -1;
    if (rc != 0) {
        fprintf(stderr, "sweepd keygen: cannot write '%s' and '%s': %s\n", pub, sec,
                strerror(errno));
        zcert_destroy(&cert);
        return CLI_EXIT_FAILURE;
    }
    printf("%s\n", zcert_public_txt(cert));
    fprintf(stderr, "sweepd keygen: wrote %s (public) and %s (secret, mode 0600)\n", pub, sec);
    zcert_destroy(&cert);
    return CLI_EXIT_OK;
}
