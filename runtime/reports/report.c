/*
 * report.c - the files of report.h: a FILE* on a ws_outfile temporary,
 * committed by rename, and the few JSON formatting helpers the reports
 * share.
 *
 * Must never leave a temporary behind, never rename a file whose writes
 * failed (a full disk shows up at fflush or fclose), and never write a
 * number JSON cannot hold (NaN, infinity).
 */
#include "report.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "json_escape.h"
#include "run.h"

int wsrt_report_open(wsrt_report_file *f, const char *option, const char *path, char *err,
                   size_t err_size)
{
    memset(f, 0, sizeof *f);
    f->option = option;
    f->out.fd = -1;
    if (strcmp(path, "-") == 0) {
        f->to_stdout = 1;
        f->fp = stdout;
        return 0;
    }
    wsrt_ctx_base base;
    wsrt_ctx_base_init(&base, NULL, UINT32_MAX);
    if (ws_outfile_open(&base.ctx, &f->out, path) != WS_OK) {
        snprintf(err, err_size, "%s: %s", option, wsrt_ctx_error(&base.ctx));
        return -1;
    }
    f->fp = fdopen(f->out.fd, "w");
    if (!f->fp) {
        snprintf(err, err_size, "%s: cannot write %s: %s", option, path, strerror(errno));
        ws_outfile_abort(&f->out);
        return -1;
    }
    return 0;
}

int wsrt_report_commit(wsrt_report_file *f, char *err, size_t err_size)
{
    if (!f->fp) {
        snprintf(err, err_size, "%s: internal error: file not open", f->option);
        return -1;
    }
    if (f->to_stdout) {
        f->fp = NULL;
        if (fflush(stdout) != 0 || ferror(stdout)) {
            snprintf(err, err_size, "%s: cannot write to standard output: %s", f->option,
                     strerror(errno));
            return -1;
        }
        return 0;
    }
    int bad = ferror(f->fp);
    int e = errno;
    /* fclose closes out.fd too; ws_outfile_commit must not close it again. */
    if (fclose(f->fp) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    f->fp = NULL;
    f->out.fd = -1;
    if (bad) {
        snprintf(err, err_size, "%s: cannot write %s: %s", f->option, f->out.final_path,
                 strerror(e));
        ws_outfile_abort(&f->out);
        return -1;
    }
    wsrt_ctx_base base;
    wsrt_ctx_base_init(&base, NULL, UINT32_MAX);
    if (ws_outfile_commit(&base.ctx, &f->out) != WS_OK) {
        snprintf(err, err_size, "%s: %s", f->option, wsrt_ctx_error(&base.ctx));
        return -1;
    }
    return 0;
}

void wsrt_report_abort(wsrt_report_file *f)
{
    if (f->to_stdout) {
        f->fp = NULL;
        return;
    }
    if (f->fp) {
        fclose(f->fp);
        f->fp = NULL;
        f->out.fd = -1;
    }
    if (f->option) /* opened once: temp_path says whether a file is left */
        ws_outfile_abort(&f->out);
}

void wsrt_json_string(FILE *fp, const char *s)
{
    if (!s) {
        fputs("null", fp);
        return;
    }
    putc('"', fp);
    char room[WSRT_JSON_ESCAPE_MAX];
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        const char *escape = wsrt_json_escape(*p, room);
        if (escape)
            fputs(escape, fp);
        else
            putc(*p, fp);
    }
    putc('"', fp);
}

void wsrt_json_us(FILE *fp, uint64_t ns)
{
    fprintf(fp, "%llu.%03llu", (unsigned long long)(ns / 1000), (unsigned long long)(ns % 1000));
}

void wsrt_json_double(FILE *fp, double v)
{
    fprintf(fp, "%.15g", isfinite(v) ? v : 0.0);
}
