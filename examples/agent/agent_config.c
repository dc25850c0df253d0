/*
 * agent_config.c - the agent's settings: an INI file (libinih) first, then
 * command-line flags, which win. Lists (tenants, schemas, tables) are
 * comma-separated; a list given on the command line replaces the file's.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "agent.h"

static const char usage_text[] =
    "usage: heliosrepl-agent [-c FILE] [options]\n"
    "\n"
    "Replicates tenants from a source PostgreSQL to a target PostgreSQL:\n"
    "initial copy, then the change stream, exactly once.\n"
    "\n"
    "  -c, --config FILE       INI file (sections source, target, "
    "replication,\n"
    "                          codec, apply, transport, agent; see\n"
    "                          docs/agent.md)\n"
    "      --source CONNINFO   source conninfo\n"
    "      --target CONNINFO   target conninfo\n"
    "  -t, --tenant ID[,ID]    tenants to replicate (repeatable)\n"
    "      --schema NAME[,..]  replicate every table of these schemas that\n"
    "                          has the tenant column (default public)\n"
    "      --table S.T[,..]    replicate these tables\n"
    "      --tenant-column C   the tenant column (default tenant_id)\n"
    "      --slot-prefix P     slot and publication = P + tenant (default "
    "hr_)\n"
    "      --source-id ID      names the source in the target's checkpoints\n"
    "      --key HEX           AES-256-GCM key, 64 hex digits (frames sealed)\n"
    "      --group-rows N      rows per target transaction (default 20000)\n"
    "      --progress SECS     a progress line every SECS seconds (default 5;\n"
    "                          0: none)\n"
    "      --until-caught-up   exit 0 once every tenant has applied all the\n"
    "                          source had written when the copy finished\n"
    "                          (SIGUSR1 asks for the same at any time)\n"
    "      --timeout SECS      give up (exit 3) after SECS seconds\n"
    "  -v, --verbose           log library messages too\n"
    "  -h, --help              this text\n"
    "\n"
    "Exit codes: 0 clean shutdown (SIGINT/SIGTERM) or caught up; 1 a tenant\n"
    "or the pipeline failed; 2 bad usage or configuration; 3 --timeout.\n";

static int set_str(char **dst, const char *v)
{
    char *s = strdup(v);
    if (!s)
        return 0;
    free(*dst);
    *dst = s;
    return 1;
}

static void clear_list(char **list, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        free(list[i]);
    *n = 0;
}

/* Append the comma-separated items of `v` (spaces trimmed). */
static int add_list(char **list, size_t *n, const char *v, const char *what)
{
    const char *p = v;
    while (*p) {
        while (*p == ',' || isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        const char *end = p;
        while (*end && *end != ',')
            end++;
        const char *last = end;
        while (last > p && isspace((unsigned char)last[-1]))
            last--;
        if (*n >= AGENT_MAX_LIST) {
            fprintf(stderr, "heliosrepl-agent: more than %d %s\n",
                    AGENT_MAX_LIST, what);
            return 0;
        }
        list[*n] = strndup(p, (size_t)(last - p));
        if (!list[*n])
            return 0;
        (*n)++;
        p = end;
    }
    return 1;
}

static int parse_long(const char *v, long *out, long min, const char *what)
{
    char *end;
    long x = strtol(v, &end, 10);
    if (end == v || *end || x < min) {
        fprintf(stderr, "heliosrepl-agent: %s: bad number '%s'\n", what, v);
        return 0;
    }
    *out = x;
    return 1;
}

static int parse_double(const char *v, double *out, const char *what)
{
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || x < 0) {
        fprintf(stderr, "heliosrepl-agent: %s: bad number '%s'\n", what, v);
        return 0;
    }
    *out = x;
    return 1;
}

static int parse_key(agent_config *cfg, const char *hex)
{
    if (strlen(hex) != 64) {
        fprintf(stderr, "heliosrepl-agent: the key is 64 hex digits\n");
        return 0;
    }
    for (int i = 0; i < 32; i++) {
        unsigned v;
        if (!isxdigit((unsigned char)hex[2 * i]) ||
            !isxdigit((unsigned char)hex[2 * i + 1]) ||
            sscanf(hex + 2 * i, "%2x", &v) != 1) {
            fprintf(stderr, "heliosrepl-agent: the key is 64 hex digits\n");
            return 0;
        }
        cfg->key[i] = (uint8_t)v;
    }
    cfg->has_key = 1;
    return 1;
}

static int bool_of(const char *v)
{
    return !strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
           !strcasecmp(v, "on");
}

#define KEY(s, n) (!strcmp(section, s) && !strcmp(name, n))

static int on_setting(void *user, const char *section, const char *name,
                      const char *value)
{
    agent_config *cfg = user;
    if (!strcmp(section, "qos")) {
        if (agent_qos_setting(&cfg->qos, name, value))
            return 1;
        fprintf(stderr, "heliosrepl-agent: bad setting [qos] %s = %s\n", name,
                value);
        return 0;
    }
    if (KEY("source", "conninfo"))
        return set_str(&cfg->source, value);
    if (KEY("target", "conninfo"))
        return set_str(&cfg->target, value);
    if (KEY("target", "source_id"))
        return set_str(&cfg->source_id, value);
    if (KEY("target", "meta_schema"))
        return set_str(&cfg->meta_schema, value);
    if (KEY("replication", "tenants"))
        return add_list(cfg->tenants, &cfg->n_tenants, value, "tenants");
    if (KEY("replication", "schemas"))
        return add_list(cfg->schemas, &cfg->n_schemas, value, "schemas");
    if (KEY("replication", "tables"))
        return add_list(cfg->tables, &cfg->n_tables, value, "tables");
    if (KEY("replication", "tenant_column"))
        return set_str(&cfg->tenant_column, value);
    if (KEY("replication", "slot_prefix"))
        return set_str(&cfg->slot_prefix, value);
    if (KEY("replication", "binary")) {
        cfg->binary = bool_of(value);
        return 1;
    }
    if (KEY("replication", "encryption_key"))
        return parse_key(cfg, value);
    if (KEY("codec", "level"))
        return parse_long(value, &cfg->codec_level, 1, name);
    if (KEY("codec", "dictionary")) {
        cfg->codec_dictionary = bool_of(value);
        return 1;
    }
    if (KEY("apply", "group_rows"))
        return parse_long(value, &cfg->group_rows, 1, name);
    if (KEY("apply", "group_bytes"))
        return parse_long(value, &cfg->group_bytes, 1, name);
    if (KEY("apply", "group_delay_ms"))
        return parse_long(value, &cfg->group_delay_ms, 0, name);
    if (KEY("transport", "max_messages"))
        return parse_long(value, &cfg->queue_messages, 1, name);
    if (KEY("transport", "max_bytes"))
        return parse_long(value, &cfg->queue_bytes, 1, name);
    if (KEY("agent", "progress_interval"))
        return parse_double(value, &cfg->progress_s, name);
    if (KEY("agent", "status_interval_ms"))
        return parse_long(value, &cfg->status_interval_ms, 1, name);
    if (KEY("agent", "heartbeat_interval_ms"))
        return parse_long(value, &cfg->heartbeat_interval_ms, 0, name);
    if (KEY("agent", "copy_rows_per_batch"))
        return parse_long(value, &cfg->copy_rows_per_batch, 1, name);
    fprintf(stderr, "heliosrepl-agent: unknown setting [%s] %s\n", section,
            name);
    return 0;
}

enum {
    OPT_SOURCE = 256,
    OPT_TARGET,
    OPT_SCHEMA,
    OPT_TABLE,
    OPT_TENANT_COLUMN,
    OPT_SLOT_PREFIX,
    OPT_SOURCE_ID,
    OPT_KEY,
    OPT_GROUP_ROWS,
    OPT_PROGRESS,
    OPT_UNTIL,
    OPT_TIMEOUT
};

static const struct option long_opts[] = {
    {"config", required_argument, NULL, 'c'},
    {"source", required_argument, NULL, OPT_SOURCE},
    {"target", required_argument, NULL, OPT_TARGET},
    {"tenant", required_argument, NULL, 't'},
    {"schema", required_argument, NULL, OPT_SCHEMA},
    {"table", required_argument, NULL, OPT_TABLE},
    {"tenant-column", required_argument, NULL, OPT_TENANT_COLUMN},
    {"slot-prefix", required_argument, NULL, OPT_SLOT_PREFIX},
    {"source-id", required_argument, NULL, OPT_SOURCE_ID},
    {"key", required_argument, NULL, OPT_KEY},
    {"group-rows", required_argument, NULL, OPT_GROUP_ROWS},
    {"progress", required_argument, NULL, OPT_PROGRESS},
    {"until-caught-up", no_argument, NULL, OPT_UNTIL},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

static int valid_tenant(const char *id)
{
    size_t n = strlen(id);
    if (n < 1 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)id[i]) && !strchr("_.-", id[i]))
            return 0;
    return 1;
}

int agent_config_load(agent_config *cfg, int argc, char **argv)
{
    memset(cfg, 0, sizeof *cfg);
    agent_qos_config_defaults(&cfg->qos);
    cfg->progress_s = 5;
    cfg->status_interval_ms = 1000;
    cfg->heartbeat_interval_ms = 10000;
    cfg->queue_messages = 4096;
    cfg->queue_bytes = 64L << 20;
    cfg->copy_rows_per_batch = 4096;
    cfg->codec_dictionary = -1;

    /* First pass: the config file, so flags can override it. */
    const char *file = NULL;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "c:t:vh", long_opts, NULL)) != -1) {
        if (c == 'c')
            file = optarg;
        else if (c == 'h') {
            fputs(usage_text, stdout);
            return AGENT_EXIT_OK;
        }
    }
    if (file) {
        int line = ini_parse(file, on_setting, cfg);
        if (line < 0) {
            fprintf(stderr, "heliosrepl-agent: cannot read %s\n", file);
            return AGENT_EXIT_USAGE;
        }
        if (line > 0) {
            fprintf(stderr, "heliosrepl-agent: %s:%d: bad setting\n", file,
                    line);
            return AGENT_EXIT_USAGE;
        }
    }

    optind = 1;
    opterr = 1;
    int cli_tenants = 0, cli_schemas = 0, cli_tables = 0, ok = 1;
    while (ok &&
           (c = getopt_long(argc, argv, "c:t:vh", long_opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            break;
        case OPT_SOURCE:
            ok = set_str(&cfg->source, optarg);
            break;
        case OPT_TARGET:
            ok = set_str(&cfg->target, optarg);
            break;
        case 't':
            if (!cli_tenants++)
                clear_list(cfg->tenants, &cfg->n_tenants);
            ok = add_list(cfg->tenants, &cfg->n_tenants, optarg, "tenants");
            break;
        case OPT_SCHEMA:
            if (!cli_schemas++)
                clear_list(cfg->schemas, &cfg->n_schemas);
            ok = add_list(cfg->schemas, &cfg->n_schemas, optarg, "schemas");
            break;
        case OPT_TABLE:
            if (!cli_tables++)
                clear_list(cfg->tables, &cfg->n_tables);
            ok = add_list(cfg->tables, &cfg->n_tables, optarg, "tables");
            break;
        case OPT_TENANT_COLUMN:
            ok = set_str(&cfg->tenant_column, optarg);
            break;
        case OPT_SLOT_PREFIX:
            ok = set_str(&cfg->slot_prefix, optarg);
            break;
        case OPT_SOURCE_ID:
            ok = set_str(&cfg->source_id, optarg);
            break;
        case OPT_KEY:
            ok = parse_key(cfg, optarg);
            break;
        case OPT_GROUP_ROWS:
            ok = parse_long(optarg, &cfg->group_rows, 1, "--group-rows");
            break;
        case OPT_PROGRESS:
            ok = parse_double(optarg, &cfg->progress_s, "--progress");
            break;
        case OPT_UNTIL:
            cfg->until_caught_up = 1;
            break;
        case OPT_TIMEOUT:
            ok = parse_double(optarg, &cfg->timeout_s, "--timeout");
            break;
        case 'v':
            cfg->verbose++;
            break;
        default:
            fputs(usage_text, stderr);
            return AGENT_EXIT_USAGE;
        }
    }
    if (!ok)
        return AGENT_EXIT_USAGE;
    if (optind < argc) {
        fprintf(stderr, "heliosrepl-agent: unexpected argument '%s'\n",
                argv[optind]);
        return AGENT_EXIT_USAGE;
    }
    if (!cfg->source || !cfg->target || cfg->n_tenants == 0) {
        fprintf(stderr, "heliosrepl-agent: a source, a target and at least "
                        "one tenant are required (see --help)\n");
        return AGENT_EXIT_USAGE;
    }
    if (!cfg->slot_prefix && !set_str(&cfg->slot_prefix, "hr_"))
        return AGENT_EXIT_FAILED;
    for (size_t i = 0; i < cfg->n_tenants; i++) {
        if (!valid_tenant(cfg->tenants[i])) {
            fprintf(stderr,
                    "heliosrepl-agent: bad tenant id '%s' (1..63 of "
                    "[A-Za-z0-9_.-])\n",
                    cfg->tenants[i]);
            return AGENT_EXIT_USAGE;
        }
        for (size_t j = 0; j < i; j++)
            if (!strcmp(cfg->tenants[i], cfg->tenants[j])) {
                fprintf(stderr, "heliosrepl-agent: tenant '%s' given twice\n",
                        cfg->tenants[i]);
                return AGENT_EXIT_USAGE;
            }
    }
    size_t plen = strlen(cfg->slot_prefix);
    if (plen < 1 || plen > 40 ||
        strspn(cfg->slot_prefix, "abcdefghijklmnopqrstuvwxyz0123456789_") !=
            plen) {
        fprintf(stderr, "heliosrepl-agent: the slot prefix is 1..40 of "
                        "[a-z0-9_]\n");
        return AGENT_EXIT_USAGE;
    }
    return -1;
}

void agent_config_free(agent_config *cfg)
{
    free(cfg->source);
    free(cfg->target);
    free(cfg->source_id);
    free(cfg->tenant_column);
    free(cfg->slot_prefix);
    free(cfg->meta_schema);
    clear_list(cfg->tenants, &cfg->n_tenants);
    clear_list(cfg->schemas, &cfg->n_schemas);
    clear_list(cfg->tables, &cfg->n_tables);
    agent_qos_config_free(&cfg->qos);
    memset(cfg->key, 0, sizeof cfg->key);
}
