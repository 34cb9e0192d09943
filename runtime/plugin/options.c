/*
 * options.c - plugin options: checks a plugin's option table, parses
 * "-o key=value" against it, and answers the ws_opt_* queries of wsrun.h.
 *
 * Must never accept a value it cannot represent exactly as typed (junk
 * after a number, a number out of range, a word not among the choices): a
 * run with a misread option wastes the user's time silently.  The queries
 * must never return a made-up value for an option the plugin did not
 * declare; that is a plugin bug and aborts with a message.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "options.h"
#include "term_text.h"

const char *wsrt_opt_type_name(ws_opt_type type)
{
    switch (type) {
    case WS_OPT_INT: return "int";
    case WS_OPT_DOUBLE: return "double";
    case WS_OPT_STRING: return "string";
    case WS_OPT_BOOL: return "bool";
    case WS_OPT_ENUM: return "enum";
    }
    return "?";
}

static int has_range(const ws_option *opt)
{
    return opt->min < opt->max;
}

int wsrt_parse_u64(const char *text, uint64_t max, uint64_t *out)
{
    if (!text || !*text)
        return -1;
    uint64_t value = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        unsigned digit = (unsigned)(*p - '0');
        if (value > (UINT64_MAX - digit) / 10)
            return -1;
        value = value * 10 + digit;
    }
    if (value > max)
        return -1;
    *out = value;
    return 0;
}

static int parse_int(const ws_option *opt, const char *text, wsrt_optval *val, char *err,
                     size_t err_size)
{
    const char *name = opt->name;
    /* strtoll would skip leading spaces and accept "0x10" with base 0;
     * decimal with an optional sign is all a user can mean here. */
    const char *digits = (*text == '-' || *text == '+') ? text + 1 : text;
    if (!isdigit((unsigned char)*digits))
        return wsrt_errf(err, err_size, "option '%s': expected a whole number, got '%s'", name, text);
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (*end != '\0')
        return wsrt_errf(err, err_size, "option '%s': expected a whole number, got '%s'", name, text);
    if (errno == ERANGE)
        return wsrt_errf(err, err_size, "option '%s': '%s' does not fit in a 64-bit integer", name,
                    text);
    if (has_range(opt) && ((double)v < opt->min || (double)v > opt->max))
        return wsrt_errf(err, err_size, "option '%s': %lld is out of range %.15g..%.15g", name, v,
                    opt->min, opt->max);
    val->i = (int64_t)v;
    return 0;
}

static int parse_double(const ws_option *opt, const char *text, wsrt_optval *val, char *err,
                        size_t err_size)
{
    const char *name = opt->name;
    if (isspace((unsigned char)*text))
        return wsrt_errf(err, err_size, "option '%s': expected a number, got '%s'", name, text);
    char *end;
    errno = 0;
    double d = strtod(text, &end);
    if (end == text || *end != '\0')
        return wsrt_errf(err, err_size, "option '%s': expected a number, got '%s'", name, text);
    if (!isfinite(d) || errno == ERANGE)
        return wsrt_errf(err, err_size, "option '%s': expected a finite number, got '%s'", name,
                    text);
    if (has_range(opt) && (d < opt->min || d > opt->max))
        return wsrt_errf(err, err_size, "option '%s': %s is out of range %.15g..%.15g", name, text,
                    opt->min, opt->max);
    val->d = d;
    return 0;
}

static int parse_bool(const ws_option *opt, const char *text, wsrt_optval *val, char *err,
                      size_t err_size)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t k = 0; k < sizeof yes / sizeof yes[0]; k++) {
        if (strcasecmp(text, yes[k]) == 0) {
            val->b = 1;
            return 0;
        }
        if (strcasecmp(text, no[k]) == 0) {
            val->b = 0;
            return 0;
        }
    }
    return wsrt_errf(err, err_size,
                "option '%s': expected true/false, yes/no, on/off or 1/0, got '%s'", opt->name,
                text);
}

/* Index of `word` among the '|'-separated choices, or -1. */
static int enum_index(const char *choices, const char *word)
{
    size_t word_len = strlen(word);
    int index = 0;
    const char *p = choices;
    for (;;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == word_len && strncmp(p, word, len) == 0)
            return index;
        if (!bar)
            return -1;
        p = bar + 1;
        index++;
    }
}

static int parse_enum(const ws_option *opt, const char *text, wsrt_optval *val, char *err,
                      size_t err_size)
{
    int index = *text ? enum_index(opt->choices, text) : -1;
    if (index < 0)
        return wsrt_errf(err, err_size, "option '%s': expected one of %s, got '%s'", opt->name,
                    opt->choices, text);
    val->e = index;
    return 0;
}

int wsrt_opts_parse_value(const ws_option *opt, const char *text, wsrt_optval *val, char *err,
                        size_t err_size)
{
    int rc;
    switch (opt->type) {
    case WS_OPT_INT: rc = parse_int(opt, text, val, err, err_size); break;
    case WS_OPT_DOUBLE: rc = parse_double(opt, text, val, err, err_size); break;
    case WS_OPT_STRING: rc = 0; break;
    case WS_OPT_BOOL: rc = parse_bool(opt, text, val, err, err_size); break;
    case WS_OPT_ENUM: rc = parse_enum(opt, text, val, err, err_size); break;
    default:
        return wsrt_errf(err, err_size, "option '%s': unknown type %d", opt->name, (int)opt->type);
    }
    if (rc == 0) {
        val->s = text;
        val->has_value = 1;
    }
    return rc;
}

/* A table error is the plugin author's, so the message says so. */
static int check_declaration(const ws_run *run, size_t k, char *err, size_t err_size)
{
    const char *plugin = run->desc.name;
    const ws_option *opt = &run->desc.options[k];
    if (!*opt->name || strchr(opt->name, '='))
        return wsrt_errf(err, err_size, "plugin %s: option %zu has an invalid name '%s'", plugin,
                    k + 1, opt->name);
    for (size_t j = 0; j < k; j++)
        if (strcmp(run->desc.options[j].name, opt->name) == 0)
            return wsrt_errf(err, err_size, "plugin %s: option '%s' is declared twice", plugin,
                        opt->name);
    if (strcmp(wsrt_opt_type_name(opt->type), "?") == 0)
        return wsrt_errf(err, err_size, "plugin %s: option '%s' has unknown type %d", plugin,
                    opt->name, (int)opt->type);
    if (opt->type == WS_OPT_ENUM && (!opt->choices || !*opt->choices))
        return wsrt_errf(err, err_size, "plugin %s: enum option '%s' declares no choices", plugin,
                    opt->name);
    if ((opt->type == WS_OPT_INT || opt->type == WS_OPT_DOUBLE) && opt->min > opt->max)
        return wsrt_errf(err, err_size, "plugin %s: option '%s' has min %.15g above max %.15g",
                    plugin, opt->name, opt->min, opt->max);
    return 0;
}

int wsrt_opts_setup(ws_run *run, char *err, size_t err_size)
{
    run->opts = NULL;
    run->n_opts = 0;
    const ws_option *table = run->desc.options;
    size_t n = 0;
    while (table && table[n].name)
        n++;
    if (n == 0)
        return 0;
    wsrt_optval *vals = calloc(n, sizeof *vals);
    if (!vals)
        return wsrt_errf(err, err_size, "out of memory for %zu options", n);
    run->opts = vals;
    run->n_opts = n;
    for (size_t k = 0; k < n; k++) {
        vals[k].decl = &table[k];
        vals[k].e = -1;
        if (check_declaration(run, k, err, err_size) != 0)
            goto bad;
        if (!table[k].default_value)
            continue;
        char why[512];
        if (wsrt_opts_parse_value(&table[k], table[k].default_value, &vals[k], why, sizeof why)) {
            wsrt_errf(err, err_size, "plugin %s: default of option '%s' is invalid: %s",
                 run->desc.name, table[k].name, why);
            goto bad;
        }
    }
    return 0;
bad:
    wsrt_opts_free(run);
    return -1;
}

/* "a, b, c" for the unknown-option message. */
static void list_names(const ws_run *run, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < run->n_opts && used < size; k++) {
        int n = snprintf(buf + used, size - used, "%s%s", k ? ", " : "", run->opts[k].decl->name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

int wsrt_opts_apply(ws_run *run, const char *assignment, char *err, size_t err_size)
{
    const char *eq = strchr(assignment, '=');
    if (!eq)
        return wsrt_errf(err, err_size, "-o '%s': expected key=value", assignment);
    size_t key_len = (size_t)(eq - assignment);
    if (key_len == 0)
        return wsrt_errf(err, err_size, "-o '%s': missing option name before '='", assignment);
    wsrt_optval *val = NULL;
    for (size_t k = 0; k < run->n_opts; k++) {
        const char *name = run->opts[k].decl->name;
        if (strlen(name) == key_len && strncmp(name, assignment, key_len) == 0) {
            val = &run->opts[k];
            break;
        }
    }
    if (!val) {
        if (run->n_opts == 0)
            return wsrt_errf(err, err_size, "unknown option '%.*s': plugin %s takes no options",
                        (int)key_len, assignment, run->desc.name);
        char names[1024];
        list_names(run, names, sizeof names);
        return wsrt_errf(err, err_size, "unknown option '%.*s' for plugin %s (valid: %s)",
                    (int)key_len, assignment, run->desc.name, names);
    }
    const char *text = eq + 1;
    if (!*text)
        return wsrt_errf(err, err_size, "option '%s': missing value after '='", val->decl->name);
    /* Parse into a copy so a bad value leaves the previous one in place. */
    wsrt_optval parsed = *val;
    if (wsrt_opts_parse_value(val->decl, text, &parsed, err, err_size) != 0)
        return -1;
    parsed.given = 1;
    *val = parsed;
    return 0;
}

void wsrt_opts_free(ws_run *run)
{
    free(run->opts);
    run->opts = NULL;
    run->n_opts = 0;
}

/* --------------------------------------------------------- help table */

static void range_text(const ws_option *opt, char *buf, size_t size)
{
    buf[0] = '\0';
    if (opt->type == WS_OPT_ENUM && opt->choices)
        snprintf(buf, size, "%s", opt->choices);
    else if ((opt->type == WS_OPT_INT || opt->type == WS_OPT_DOUBLE) && has_range(opt))
        snprintf(buf, size, "%.15g..%.15g", opt->min, opt->max);
    else if (opt->type == WS_OPT_BOOL)
        snprintf(buf, size, "true|false");
}

static int width_of(const char *s, int current)
{
    int len = (int)strlen(s);
    return len > current ? len : current;
}

/* One option's row, each text as a terminal shows it as is (term_text.h):
 * a plugin's option names, defaults, choices and help may hold control
 * sequences (issue 23 item 4). */
typedef struct option_row {
    char name[256], def[256], range[512], help[1024];
} option_row;

static void option_row_fill(option_row *r, const ws_option *o)
{
    char range[256];
    const char *def = o->default_value ? o->default_value : "-";
    const char *help = o->help ? o->help : "";
    range_text(o, range, sizeof range);
    if (!range[0])
        snprintf(range, sizeof range, "-");
    wsrt_term_text(r->name, sizeof r->name, o->name, strlen(o->name));
    wsrt_term_text(r->def, sizeof r->def, def, strlen(def));
    wsrt_term_text(r->range, sizeof r->range, range, strlen(range));
    wsrt_term_text(r->help, sizeof r->help, help, strlen(help));
}

void wsrt_opts_print_table(FILE *out, const ws_option *options)
{
    if (!options || !options[0].name) {
        fprintf(out, "  (no options)\n");
        return;
    }
    int w_name = 4, w_type = 4, w_def = 7, w_range = 13;
    option_row row;
    for (const ws_option *o = options; o->name; o++) {
        option_row_fill(&row, o);
        w_name = width_of(row.name, w_name);
        w_type = width_of(wsrt_opt_type_name(o->type), w_type);
        w_def = width_of(row.def, w_def);
        w_range = width_of(row.range, w_range);
    }
    fprintf(out, "  %-*s  %-*s  %-*s  %-*s  %s\n", w_name, "name", w_type, "type", w_def,
            "default", w_range, "range/choices", "help");
    for (const ws_option *o = options; o->name; o++) {
        option_row_fill(&row, o);
        fprintf(out, "  %-*s  %-*s  %-*s  %-*s  %s\n", w_name, row.name, w_type,
                wsrt_opt_type_name(o->type), w_def, row.def, w_range, row.range, row.help);
    }
}

/* ------------------------------------------------------ wsrt_opt queries */

/* The value of `name` when it has type `type`; aborts on a plugin bug. */
static const wsrt_optval *lookup(const ws_ctx *ctx, const char *name, ws_opt_type type,
                               const char *caller)
{
    const ws_run *run = ctx->run;
    const char *plugin = run->desc.name ? run->desc.name : "?";
    for (size_t k = 0; k < run->n_opts; k++) {
        const wsrt_optval *val = &run->opts[k];
        if (strcmp(val->decl->name, name) != 0)
            continue;
        if (type != 0 && val->decl->type != type) {
            wsrt_err("plugin bug: %s: %s(\"%s\"): the option is of type %s, not %s", plugin,
                   caller, name, wsrt_opt_type_name(val->decl->type), wsrt_opt_type_name(type));
            abort();
        }
        return val;
    }
    wsrt_err("plugin bug: %s: %s(\"%s\"): the plugin declares no such option", plugin, caller,
           name);
    abort();
}

int64_t ws_opt_int(const ws_ctx *ctx, const char *name)
{
    const wsrt_optval *v = lookup(ctx, name, WS_OPT_INT, "ws_opt_int");
    return v->has_value ? v->i : 0;
}

double ws_opt_double(const ws_ctx *ctx, const char *name)
{
    const wsrt_optval *v = lookup(ctx, name, WS_OPT_DOUBLE, "ws_opt_double");
    return v->has_value ? v->d : 0.0;
}

const char *ws_opt_str(const ws_ctx *ctx, const char *name)
{
    const wsrt_optval *v = lookup(ctx, name, WS_OPT_STRING, "ws_opt_str");
    return v->has_value ? v->s : NULL;
}

int ws_opt_bool(const ws_ctx *ctx, const char *name)
{
    const wsrt_optval *v = lookup(ctx, name, WS_OPT_BOOL, "ws_opt_bool");
    return v->has_value ? v->b : 0;
}

int ws_opt_enum(const ws_ctx *ctx, const char *name)
{
    const wsrt_optval *v = lookup(ctx, name, WS_OPT_ENUM, "ws_opt_enum");
    return v->has_value ? v->e : -1;
}

int ws_opt_given(const ws_ctx *ctx, const char *name)
{
    return lookup(ctx, name, (ws_opt_type)0, "ws_opt_given")->given;
}
