/*
 * journal_format.c - the journal file's format (journal.h): the header
 * line that ties a journal to one command (its fields, escaping and id),
 * and the scan that checks a journal's bytes and turns its records into
 * skip bits for --resume.  journal.c writes what this reads.
 *
 * Pure functions over memory: must never open, write or print anything
 * (failures are a one-line reason in err, docs/design.md "Errors: one
 * convention"), never read past the length it is given, and never trust a
 * record whose check word does not match.
 */
#include "journal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- header */

static uint64_t hash_bytes(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t k = 0; k < len; k++)
        h = (h ^ p[k]) * UINT64_C(0x100000001b3); /* FNV-1a step */
    return ws_mix64(h);
}

/* %XX-escape what would break the header's "field=value field=value" and
 * the options' "k=v,k=v" shapes. */
static int needs_escape(unsigned char c)
{
    return c <= ' ' || c >= 0x7f || c == '%' || c == ',';
}

static char *escape(const char *text)
{
    size_t len = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        len += needs_escape(*p) ? 3 : 1;
    char *out = malloc(len + 1), *o = out;
    if (!out)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (needs_escape(*p)) {
            sprintf(o, "%%%02X", *p);
            o += 3;
        } else {
            *o++ = (char)*p;
        }
    }
    *o = '\0';
    return out;
}

/* Append to a growing string; NULL (and the old string freed) when out of
 * memory. */
static char *append(char *s, size_t *len, const char *piece)
{
    size_t add = strlen(piece);
    char *grown = realloc(s, *len + add + 1);
    if (!grown) {
        free(s);
        return NULL;
    }
    memcpy(grown + *len, piece, add + 1);
    *len += add;
    return grown;
}

static void value_text(const wsrt_optval *v, char *buf, size_t size)
{
    switch (v->decl->type) {
    case WS_OPT_INT: snprintf(buf, size, "%" PRId64, v->i); break;
    case WS_OPT_DOUBLE: snprintf(buf, size, "%.17g", v->d); break;
    case WS_OPT_BOOL: snprintf(buf, size, "%s", v->b ? "true" : "false"); break;
    case WS_OPT_ENUM: {
        /* The choice word, so messages read "-o channels=rgb". */
        const char *c = v->decl->choices ? v->decl->choices : "";
        for (int k = 0; k < v->e && c; k++)
            c = strchr(c, '|') ? strchr(c, '|') + 1 : NULL;
        if (c)
            snprintf(buf, size, "%.*s", (int)strcspn(c, "|"), c);
        else
            snprintf(buf, size, "#%d", v->e);
        break;
    }
    default: buf[0] = '\0'; break;
    }
}

char *wsrt_journal_options_text(const ws_run *run)
{
    char *text = malloc(1), number[64];
    size_t len = 0;
    if (!text)
        return NULL;
    text[0] = '\0';
    for (size_t k = 0; k < run->n_opts; k++) {
        const wsrt_optval *v = &run->opts[k];
        if (!v->has_value)
            continue;
        const char *raw = number;
        if (v->decl->type == WS_OPT_STRING)
            raw = v->s ? v->s : "";
        else
            value_text(v, number, sizeof number);
        char *name = escape(v->decl->name), *value = escape(raw);
        if (!name || !value || !(text = append(text, &len, len ? "," : "")) ||
            !(text = append(text, &len, name)) || !(text = append(text, &len, "=")) ||
            !(text = append(text, &len, value))) {
            free(name);
            free(value);
            free(text);
            return NULL;
        }
        free(name);
        free(value);
    }
    /* A plugin's ws_set_run_key text: "+key=" cannot be an option's name. */
    if (run->run_key[0] && (!(text = append(text, &len, len ? ",+key=" : "+key=")) ||
                            !(text = append(text, &len, run->run_key))))
        return NULL;
    return text;
}

int wsrt_journal_key_build(const char *plugin, uint64_t count, uint64_t seed, const char *options,
                         wsrt_journal_key *key)
{
    memset(key, 0, sizeof *key);
    key->count = count;
    key->seed = seed;
    /* The options text comes escaped (wsrt_journal_options_text); anything
     * that would break the header line is refused rather than written. */
    for (const unsigned char *p = (const unsigned char *)options; *p; p++)
        if (*p <= ' ' || *p >= 0x7f)
            return -1;
    key->plugin = escape(plugin);
    key->options = strdup(options);
    if (!key->plugin || !key->options) {
        wsrt_journal_key_free(key);
        return -1;
    }
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    h = hash_bytes(h, plugin, strlen(plugin) + 1);
    h = hash_bytes(h, &count, sizeof count);
    h = hash_bytes(h, &seed, sizeof seed);
    h = hash_bytes(h, options, strlen(options) + 1);
    key->id = h;
    int n = snprintf(NULL, 0, "%s %d id=%016" PRIx64 " plugin=%s count=%" PRIu64 " seed=%" PRIu64
                     " options=%s\n",
                     WSRT_JOURNAL_MAGIC, WSRT_JOURNAL_VERSION, h, key->plugin, count, seed, options);
    key->header = malloc((size_t)n + 1);
    if (!key->header) {
        wsrt_journal_key_free(key);
        return -1;
    }
    snprintf(key->header, (size_t)n + 1,
             "%s %d id=%016" PRIx64 " plugin=%s count=%" PRIu64 " seed=%" PRIu64 " options=%s\n",
             WSRT_JOURNAL_MAGIC, WSRT_JOURNAL_VERSION, h, key->plugin, count, seed, options);
    key->header_len = (size_t)n;
    return 0;
}

void wsrt_journal_key_free(wsrt_journal_key *key)
{
    free(key->header);
    free(key->plugin);
    free(key->options);
    memset(key, 0, sizeof *key);
}

/* ------------------------------------------------------------- reader */

/* The value of " name=" in the header line [line, end), as a pointer and
 * length; 0 when absent. */
static int header_field(const char *line, const char *end, const char *name, const char **value,
                        size_t *len)
{
    size_t nlen = strlen(name);
    for (const char *p = line; p < end; p++) {
        if (*p != ' ' || (size_t)(end - p) < nlen + 2 || memcmp(p + 1, name, nlen) != 0 ||
            p[1 + nlen] != '=')
            continue;
        const char *v = p + 2 + nlen, *e = v;
        while (e < end && *e != ' ' && *e != '\n')
            e++;
        *value = v;
        *len = (size_t)(e - v);
        return 1;
    }
    return 0;
}

static int field_is(const char *value, size_t len, const char *want)
{
    return strlen(want) == len && memcmp(value, want, len) == 0;
}

/* The first option in `want` ("k=v,...") whose value differs in `have`,
 * for the message; both escaped. */
static void first_option_difference(const char *have, size_t have_len, const char *want, char *out,
                                    size_t size)
{
    const char *w = want;
    while (*w) {
        size_t item = strcspn(w, ",");
        size_t name_len = strcspn(w, "=,");
        const char *found = NULL;
        size_t found_len = 0;
        for (const char *h = have; h < have + have_len;) {
            const char *stop = memchr(h, ',', (size_t)(have + have_len - h));
            size_t hl = stop ? (size_t)(stop - h) : (size_t)(have + have_len - h);
            if (hl > name_len && h[name_len] == '=' && memcmp(h, w, name_len) == 0) {
                found = h;
                found_len = hl;
                break;
            }
            h += hl + 1;
        }
        if (!found || found_len != item || memcmp(found, w, item) != 0) {
            if (found)
                snprintf(out, size, "-o %.*s there, %.*s here", (int)(found_len > 200 ? 200 : found_len),
                         found, (int)(item > 200 ? 200 : item), w);
            else
                snprintf(out, size, "option %.*s not there", (int)(name_len > 200 ? 200 : name_len), w);
            return;
        }
        w += item + (w[item] == ',');
    }
    snprintf(out, size, "options differ (%.*s there)", (int)(have_len > 200 ? 200 : have_len), have);
}

/* Compare a complete header line with the key; 0 when it is this command's. */
static int check_header(const char *line, size_t len, const wsrt_journal_key *key, char *err,
                        size_t err_size)
{
    const char *end = line + len, *v;
    size_t vl;
    size_t magic_len = strlen(WSRT_JOURNAL_MAGIC);
    if (len < magic_len + 2 || memcmp(line, WSRT_JOURNAL_MAGIC " ", magic_len + 1) != 0)
        return wsrt_errf(err, err_size, "is not a wsrun journal (its first line does not start with '"
                    WSRT_JOURNAL_MAGIC "')");
    const char *ver = line + magic_len + 1;
    size_t ver_len = strcspn(ver, " \n");
    if ((size_t)(end - ver) < ver_len || !field_is(ver, ver_len, "1"))
        return wsrt_errf(err, err_size, "is a journal of format version %.*s; this wsrun reads version %d",
                    (int)(ver_len > 20 ? 20 : ver_len), ver, WSRT_JOURNAL_VERSION);
    char number[32];
    if (!header_field(line, end, "plugin", &v, &vl))
        return wsrt_errf(err, err_size, "has a damaged header (no plugin field)");
    if (!field_is(v, vl, key->plugin))
        return wsrt_errf(err, err_size, "was written by another command: plugin '%.*s' there, '%s' here",
                    (int)(vl > 200 ? 200 : vl), v, key->plugin);
    snprintf(number, sizeof number, "%" PRIu64, key->count);
    if (!header_field(line, end, "count", &v, &vl))
        return wsrt_errf(err, err_size, "has a damaged header (no count field)");
    if (!field_is(v, vl, number))
        return wsrt_errf(err, err_size, "was written by another command: --count %.*s there, %s here",
                    (int)(vl > 24 ? 24 : vl), v, number);
    snprintf(number, sizeof number, "%" PRIu64, key->seed);
    if (!header_field(line, end, "seed", &v, &vl))
        return wsrt_errf(err, err_size, "has a damaged header (no seed field)");
    if (!field_is(v, vl, number))
        return wsrt_errf(err, err_size, "was written by another command: --seed %.*s there, %s here",
                    (int)(vl > 24 ? 24 : vl), v, number);
    if (!header_field(line, end, "options", &v, &vl))
        return wsrt_errf(err, err_size, "has a damaged header (no options field)");
    if (!field_is(v, vl, key->options)) {
        char what[512];
        first_option_difference(v, vl, key->options, what, sizeof what);
        return wsrt_errf(err, err_size, "was written by another command: %s", what);
    }
    if (len != key->header_len || memcmp(line, key->header, len) != 0)
        return wsrt_errf(err, err_size, "has a damaged header (its id does not match its fields)");
    return 0;
}

static uint64_t load_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--)
        v = v << 8 | p[k];
    return v;
}

int wsrt_journal_scan_data(const unsigned char *data, size_t len, const wsrt_journal_key *key,
                         uint64_t *skip_bits, wsrt_journal_scan *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    const unsigned char *nl = len ? memchr(data, '\n', len) : NULL;
    if (!nl) {
        /* No complete header: empty, or killed while writing the header
         * (no record can follow it).  Anything else is not ours. */
        size_t magic_len = strlen(WSRT_JOURNAL_MAGIC);
        size_t cmp = len < magic_len ? len : magic_len;
        if (memcmp(data, WSRT_JOURNAL_MAGIC, cmp) != 0)
            return wsrt_errf(err, err_size, "is not a wsrun journal (it does not start with '"
                        WSRT_JOURNAL_MAGIC "')");
        out->fresh = 1;
        return 0;
    }
    size_t header_len = (size_t)(nl - data) + 1;
    if (check_header((const char *)data, header_len, key, err, err_size) != 0)
        return -1;
    size_t records = (len - header_len) / WSRT_JOURNAL_RECORD;
    const unsigned char *r = data + header_len;
    for (size_t k = 0; k < records; k++, r += WSRT_JOURNAL_RECORD) {
        uint64_t index = load_le64(r), check = load_le64(r + 8);
        if (check != wsrt_journal_check(index, key->id) || index >= key->count) {
            out->ignored++;
            continue;
        }
        if (skip_bits) {
            uint64_t bit = UINT64_C(1) << (index % 64);
            if (skip_bits[index / 64] & bit) {
                out->ignored++;
                continue;
            }
            skip_bits[index / 64] |= bit;
        }
        out->done++;
    }
    out->keep_len = header_len + records * WSRT_JOURNAL_RECORD;
    return 0;
}
