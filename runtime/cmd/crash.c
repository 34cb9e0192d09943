/*
 * crash.c - signal handling of wsrun (crash.h): the fatal-signal report
 * with plugin, index, worker and backtrace; Ctrl-C / SIGTERM stopping the
 * run; the table of temporary output files removed when the process must
 * end at once.
 *
 * Must never call anything on a signal path that is not async-signal-safe
 * (no stdio, no malloc, no locks: messages are formatted by hand into a
 * stack buffer and written with write(2)), and never hang: a handler that
 * itself gets stuck is ended by an alarm.
 */
#include "crash.h"

#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "isolate.h"
#include "log.h"
#include "journal.h"
#include "outfile.h"
#include "pool.h"
#include "pool_registry.h"
#include "term_text.h"

#define BACKTRACE_DEPTH 64
#define ALT_STACK_MIN (64 * 1024)
#define TEMP_SLOTS 8192
/* Seconds a crash report may take before the process ends regardless. */
#define CRASH_REPORT_SECONDS 10

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};

static const char *_Atomic crash_plugin;
/* The plugin's name and file as the handler prints them, made safe for a
 * terminal before the run (a name equals its file name, which may hold
 * control bytes: issue 23 item 4); the handler only copies them.  Two
 * buffers each, so a second install never rewrites the text a handler may
 * be reading: the pointer moves only after the new text is complete. */
#define SHOWN_MAX 512
static char plugin_shown_buf[2][SHOWN_MAX], plugin_file_buf[2][SHOWN_MAX];
static const char *_Atomic plugin_shown;
/* The plugin file as the loader named it (escaped as a shell word), and
 * where its code lies, for the addr2line line under a backtrace (set once
 * before the run). */
static const char *_Atomic plugin_file;
static _Atomic uintptr_t plugin_begin, plugin_end, plugin_base;
static const char *_Atomic crash_phase;
static int stderr_is_tty;
static _Atomic int handlers_installed;

/* The thread id of the thread reporting a crash (0: none), so a fault
 * inside the report ends the process instead of recursing. */
static _Atomic long crashing_tid;
static _Atomic int exit_status_on_alarm;

static const char *_Atomic temp_slots[TEMP_SLOTS];

/* The loaded objects, listed before the run (dl_iterate_phdr, which takes
 * the loader's lock: never in the handler), so the backtrace names each
 * frame's object without dladdr.  glibc's backtrace_symbols_fd calls
 * dladdr, which takes the loader's lock: a crash while another thread
 * held it (in dlopen, say) sat out the 10 s alarm without a backtrace
 * (issue 23 item 8).  An object loaded after the list was made (by the
 * plugin, at run time) shows as its bare address. */
#define MAX_OBJECTS 128
typedef struct loaded_object {
    uintptr_t base, begin, end;
    char name[256];
} loaded_object;
static loaded_object objects[MAX_OBJECTS];
static _Atomic int n_objects;
static void list_objects(void);

/* --------------------------------------------- signal-safe formatting */

typedef struct line_buf {
    char text[512];
    size_t len;
} line_buf;

static void put_str(line_buf *b, const char *s)
{
    while (s && *s && b->len < sizeof b->text - 1)
        b->text[b->len++] = *s++;
}

static void put_u64(line_buf *b, uint64_t v)
{
    char digits[24];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n > 0 && b->len < sizeof b->text - 1)
        b->text[b->len++] = digits[--n];
}

static void put_hex(line_buf *b, uintptr_t v)
{
    put_str(b, "0x");
    char digits[2 * sizeof v];
    int n = 0;
    do {
        digits[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    while (n > 0 && b->len < sizeof b->text - 1)
        b->text[b->len++] = digits[--n];
}

static void emit(line_buf *b)
{
    if (b->len < sizeof b->text)
        b->text[b->len++] = '\n';
    (void)!write(STDERR_FILENO, b->text, b->len);
    b->len = 0;
}

/* Start a line: erase the progress line first when stderr is a terminal. */
static void begin(line_buf *b)
{
    b->len = 0;
    if (stderr_is_tty)
        put_str(b, "\r\033[K");
    put_str(b, "wsrun: ");
    put_str(b, wsrt_log_tag()); /* wsrun-mpi: "rank 3: " */
}

static const char *signal_meaning(int sig, const siginfo_t *info)
{
    switch (sig) {
    case SIGSEGV: return "Segmentation fault";
    case SIGBUS: return "Bus error";
    case SIGFPE:
        if (info && (info->si_code == FPE_INTDIV))
            return "Floating-point exception: integer divide by zero";
        if (info && info->si_code == FPE_INTOVF)
            return "Floating-point exception: integer overflow";
        return "Floating-point exception";
    case SIGILL: return "Illegal instruction";
    case SIGABRT: return "Aborted";
    }
    return "signal";
}

/* ------------------------------------------------ temporary file table */

static size_t temp_slot_start(const char *path)
{
    return (size_t)(((uintptr_t)path >> 4) * UINT64_C(0x9e3779b97f4a7c15) >> 40) % TEMP_SLOTS;
}

/* --isolate's worker process copies the table into its slot (isolate.h):
 * NULL elsewhere. */
static void (*temp_mirror)(const char *path, int add);

void wsrt_crash_set_temp_mirror(void (*mirror)(const char *path, int add))
{
    /* A worker process's table starts empty: what it inherited names the
     * parent's temporaries (read's manifest), which a crash here must not
     * remove. */
    for (size_t k = 0; mirror && k < TEMP_SLOTS; k++)
        atomic_store_explicit(&temp_slots[k], NULL, memory_order_relaxed);
    temp_mirror = mirror;
}

void wsrt_crash_track_temp(const char *path)
{
    if (temp_mirror) /* issue 24: a killed worker process's temporaries */
        temp_mirror(path, 1);
    size_t start = temp_slot_start(path);
    for (size_t k = 0; k < TEMP_SLOTS; k++) {
        const char *expected = NULL;
        /* release: a handler that loads the pointer sees the name. */
        if (atomic_compare_exchange_strong_explicit(&temp_slots[(start + k) % TEMP_SLOTS],
                                                    &expected, path, memory_order_release,
                                                    memory_order_relaxed))
            return;
    }
}

void wsrt_crash_untrack_temp(const char *path)
{
    if (!path[0]) /* emptied names were forgotten already (or never tracked) */
        return;
    if (temp_mirror) /* issue 24 */
        temp_mirror(path, 0);
    size_t start = temp_slot_start(path);
    for (size_t k = 0; k < TEMP_SLOTS; k++) {
        _Atomic(const char *) *slot = &temp_slots[(start + k) % TEMP_SLOTS];
        const char *expected = path;
        /* relaxed load first: a locked compare-exchange on every slot
         * passed would cost more than the write it protects. */
        if (atomic_load_explicit(slot, memory_order_relaxed) == path &&
            atomic_compare_exchange_strong_explicit(slot, &expected, NULL, memory_order_relaxed,
                                                    memory_order_relaxed))
            return;
    }
}

static void remove_temps(void)
{
    for (size_t k = 0; k < TEMP_SLOTS; k++) {
        const char *p = atomic_load_explicit(&temp_slots[k], memory_order_acquire);
        if (p && p[0])
            unlink(p);
    }
}

/* Everything that must happen before the process ends early. */
static void save_and_clean(void)
{
    wsrt_journal_flush_from_signal();
    remove_temps();
    wsrt_isolate_kill_from_signal(); /* issue 24: worker processes and their temporaries */
}

void wsrt_crash_clean_up(void)
{
    save_and_clean();
}

const char *wsrt_crash_plugin(void)
{
    return atomic_load(&crash_plugin);
}

/* ------------------------------------------------------ fatal signals */

static void on_report_timeout(int sig)
{
    (void)sig;
    _exit(atomic_load(&exit_status_on_alarm));
}

/* A fault within this distance of the stack pointer hit the guard page
 * below the stack: a stack overflow (no mapped stack page faults). */
#define STACK_FAULT_REACH ((uintptr_t)64 * 1024)

static int is_stack_overflow(int sig, const siginfo_t *info, const void *uctx)
{
    if (sig != SIGSEGV || !info || !uctx)
        return 0;
    const ucontext_t *uc = uctx;
    uintptr_t sp;
#if defined(__x86_64__)
    sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
    sp = (uintptr_t)uc->uc_mcontext.sp;
#else
    (void)uc;
    return 0;
#endif
    uintptr_t addr = (uintptr_t)info->si_addr;
    return addr + STACK_FAULT_REACH >= sp && addr <= sp + STACK_FAULT_REACH;
}

static void report_where(line_buf *b, int sig, const siginfo_t *info, const void *uctx)
{
    int in_worker = 0;
    const char *plugin = atomic_load(&plugin_shown);
    unsigned worker;
    uint64_t index;
    begin(b);
    if (plugin) {
        put_str(b, plugin);
        put_str(b, ": ");
    }
    if (wsrt_pool_where(&worker, &index)) {
        in_worker = 1;
        const char *callback = wsrt_pool_worker_callback();
        if (index != UINT64_MAX) {
            put_str(b, "index ");
            put_u64(b, index);
            put_str(b, " (worker ");
        } else if (callback) {
            put_str(b, "in ");
            put_str(b, callback);
            put_str(b, " (worker ");
        } else {
            put_str(b, "between indices (worker ");
        }
        put_u64(b, worker);
        put_str(b, "): ");
    } else {
        const char *phase = atomic_load(&crash_phase);
        if (phase) {
            put_str(b, "in ");
            put_str(b, phase);
            put_str(b, " (main thread): ");
        }
    }
    put_str(b, "fatal signal ");
    put_str(b, wsrt_signal_name(sig));
    put_str(b, " (");
    put_str(b, signal_meaning(sig, info));
    put_str(b, ")");
    if ((sig == SIGSEGV || sig == SIGBUS) && info) {
        put_str(b, " at address ");
        put_hex(b, (uintptr_t)info->si_addr);
    }
    if (is_stack_overflow(sig, info, uctx)) {
        put_str(b, ": stack overflow");
        if (in_worker) {
            put_str(b, " (a worker's stack is ");
            put_u64(b, wsrt_pool_stack_bytes_of_caller() >> 20);
            put_str(b, " MiB)");
        }
    }
    emit(b);
}

/* One ready-to-run addr2line command for the backtrace's plugin frames,
 * with the offsets the backtrace shows as "plugin.so(+0x...)". */
static void report_plugin_lines(void *const *frames, int n)
{
    const char *file = atomic_load(&plugin_file);
    uintptr_t code_begin = atomic_load(&plugin_begin), code_end = atomic_load(&plugin_end);
    uintptr_t base = atomic_load(&plugin_base);
    if (!file)
        return;
    line_buf b;
    begin(&b);
    put_str(&b, "plugin functions and lines: addr2line -f -e ");
    put_str(&b, file); /* a shell word already (shell_word) */
    size_t bare = b.len;
    uintptr_t last = 0;
    for (int k = 0; k < n; k++) {
        uintptr_t pc = (uintptr_t)frames[k];
        /* a recursion repeats one frame: once is enough */
        if (pc < code_begin || pc >= code_end || pc == last || b.len + 20 >= sizeof b.text)
            continue;
        last = pc;
        put_str(&b, " ");
        put_hex(&b, pc - base);
    }
    if (b.len > bare)
        emit(&b);
}

/* One backtrace line, as backtrace_symbols_fd writes it for a frame
 * without a symbol: "object(+0xoffset)[0xaddress]".  Async-signal-safe. */
static void put_frame(void *frame)
{
    uintptr_t pc = (uintptr_t)frame;
    line_buf b = {.len = 0};
    int n = atomic_load(&n_objects);
    for (int k = 0; k < n; k++)
        if (pc >= objects[k].begin && pc < objects[k].end) {
            put_str(&b, objects[k].name);
            put_str(&b, "(+");
            put_hex(&b, pc - objects[k].base);
            put_str(&b, ")");
            break;
        }
    put_str(&b, "[");
    put_hex(&b, pc);
    put_str(&b, "]");
    emit(&b);
}

static void on_fatal(int sig, siginfo_t *info, void *uctx)
{
    long tid = (long)syscall(SYS_gettid);
    long expected = 0;
    if (!atomic_compare_exchange_strong(&crashing_tid, &expected, tid)) {
        if (expected == tid) /* the report itself faulted */
            _exit(128 + sig);
        for (;;) /* another thread is reporting; it ends the process */
            pause();
    }
    /* A report that gets stuck (a corrupt heap under backtrace) must not
     * hang: the alarm ends the process with the same status. */
    atomic_store(&exit_status_on_alarm, 128 + sig);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_report_timeout;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    alarm(CRASH_REPORT_SECONDS);

    wsrt_registry_request_stop();
    line_buf b;
    report_where(&b, sig, info, uctx);
    begin(&b);
    put_str(&b, "backtrace (most recent call first):");
    emit(&b);
    void *frames[BACKTRACE_DEPTH];
    int n = backtrace(frames, BACKTRACE_DEPTH); /* warmed up at install: no loading */
    for (int k = 0; k < n; k++)
        put_frame(frames[k]);
    report_plugin_lines(frames, n);
    save_and_clean();
    begin(&b);
    put_str(&b, "exiting with status ");
    put_u64(&b, (uint64_t)(128 + sig));
    put_str(&b, " (128 + ");
    put_str(&b, wsrt_signal_name(sig));
    put_str(&b, ")");
    emit(&b);
    _exit(128 + sig);
}

/* ------------------------------------------------- alternate stacks */

static pthread_key_t alt_stack_key;
static pthread_once_t alt_stack_once = PTHREAD_ONCE_INIT;

typedef struct alt_stack {
    void *base;
    size_t size;
} alt_stack;

/* This thread's stack's bookkeeping, kept out of the mapping itself: the
 * kernel does not touch an alternate stack until a signal uses it, so a
 * thread that never crashes never faults a page of it in (what a first
 * touch costs: docs/design.md, "Costs measured on the project's VM"). */
static _Thread_local alt_stack this_alt_stack;

static void alt_stack_release(void *arg)
{
    stack_t off;
    memset(&off, 0, sizeof off);
    off.ss_flags = SS_DISABLE;
    sigaltstack(&off, NULL);
    alt_stack *s = arg;
    munmap(s->base, s->size);
}

static void alt_stack_key_create(void)
{
    (void)pthread_key_create(&alt_stack_key, alt_stack_release);
}

void wsrt_crash_thread_init(void)
{
    pthread_once(&alt_stack_once, alt_stack_key_create);
    if (pthread_getspecific(alt_stack_key))
        return;
    long min = sysconf(_SC_SIGSTKSZ);
    size_t size = min > ALT_STACK_MIN ? (size_t)min : ALT_STACK_MIN;
    void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
        return; /* no report for a stack overflow on this thread; nothing else changes */
    stack_t ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_sp = base;
    ss.ss_size = size;
    if (sigaltstack(&ss, NULL) != 0) {
        munmap(base, size);
        return;
    }
    this_alt_stack.base = base;
    this_alt_stack.size = size;
    /* The key's destructor unmaps it when the thread ends (thread-locals
     * are still there while destructors run). */
    pthread_setspecific(alt_stack_key, &this_alt_stack);
}

/* The buffer of `bufs` that `shown` does not point at: the one to fill. */
static char *spare_buf(char (*bufs)[SHOWN_MAX], const char *shown)
{
    return shown == bufs[0] ? bufs[1] : bufs[0];
}

void wsrt_crash_install(const char *plugin)
{
    atomic_store(&crash_plugin, plugin);
    if (plugin) {
        char *buf = spare_buf(plugin_shown_buf, atomic_load(&plugin_shown));
        wsrt_term_text(buf, SHOWN_MAX, plugin, strlen(plugin));
        atomic_store(&plugin_shown, buf); /* seq_cst: after the text */
    } else {
        atomic_store(&plugin_shown, NULL);
    }
    wsrt_crash_thread_init();
    if (atomic_exchange(&handlers_installed, 1))
        return;
    /* Before any output is opened (outfile.h): the handlers below remove
     * what ws_outfile_* registers here. */
    static const wsrt_temp_registry temps = {wsrt_crash_track_temp, wsrt_crash_untrack_temp};
    wsrt_outfile_set_temp_registry(&temps);
    stderr_is_tty = isatty(STDERR_FILENO);
    /* backtrace loads libgcc on its first call, which is not signal-safe:
     * do that now. */
    void *warm[2];
    (void)backtrace(warm, 2);
    list_objects();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fatal;
    /* NODEFER: a fault inside the report reaches on_fatal again, which
     * then exits instead of the kernel killing us silently. */
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    for (size_t k = 0; k < sizeof fatal_signals / sizeof fatal_signals[0]; k++)
        sigaction(fatal_signals[k], &sa, NULL);
}

typedef struct code_range {
    uintptr_t base, begin, end;
} code_range;

static int list_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    int *n = arg;
    if (*n == MAX_OBJECTS)
        return 1;
    loaded_object *o = &objects[*n];
    o->base = info->dlpi_addr;
    o->begin = UINTPTR_MAX;
    o->end = 0;
    for (int k = 0; k < info->dlpi_phnum; k++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[k];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t b = info->dlpi_addr + ph->p_vaddr, e = b + ph->p_memsz;
        if (b < o->begin)
            o->begin = b;
        if (e > o->end)
            o->end = e;
    }
    /* the program itself has no name here: the one it was started by;
     * escaped, as a plugin's file (its name) may hold control bytes */
    const char *name = info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name
                                                             : program_invocation_name;
    wsrt_term_text(o->name, sizeof o->name, name, strlen(name));
    if (o->end > o->begin)
        ++*n;
    return 0;
}

/* (Re)list the loaded objects for the handler; before the run only. */
static void list_objects(void)
{
    int n = 0;
    atomic_store(&n_objects, 0); /* a handler now names no object */
    dl_iterate_phdr(list_object, &n);
    atomic_store(&n_objects, n); /* seq_cst: the entries are written first */
}

static int find_loaded_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    code_range *r = arg;
    if (info->dlpi_addr != r->base)
        return 0;
    for (int k = 0; k < info->dlpi_phnum; k++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[k];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        uintptr_t b = info->dlpi_addr + ph->p_vaddr, e = b + ph->p_memsz;
        if (!r->begin || b < r->begin)
            r->begin = b;
        if (e > r->end)
            r->end = e;
    }
    return r->end != 0;
}

/* `path` as one shell word a terminal shows as is, into out: bare when it
 * needs no quoting, in '...' when it is printable ASCII without a quote,
 * else bash's $'...' with every other byte as \xHH, so the addr2line line
 * stays a command to copy (issue 23 item 4). */
static void shell_word(char *out, size_t size, const char *path)
{
    int plain = 1, printable = 1;
    for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '/' || *c == '.' || *c == '_' || *c == '-' || *c == '+'))
            plain = 0;
        if (*c < 0x20 || *c >= 0x7f || *c == '\'')
            printable = 0;
    }
    size_t n = 0;
    if (!plain && !printable)
        out[n++] = '$';
    if (!plain)
        out[n++] = '\'';
    /* room for a whole escape, the closing quote and the NUL, always */
    for (const unsigned char *c = (const unsigned char *)path; *c && n + 6 < size; c++) {
        if (plain || printable || (*c >= 0x20 && *c < 0x7f && *c != '\'' && *c != '\\')) {
            out[n++] = (char)*c;
        } else {
            out[n++] = '\\';
            out[n++] = 'x';
            out[n++] = "0123456789abcdef"[*c >> 4];
            out[n++] = "0123456789abcdef"[*c & 15];
        }
    }
    if (!plain)
        out[n++] = '\'';
    out[n] = '\0';
}

void wsrt_crash_set_plugin_code(const void *address_in_plugin)
{
    Dl_info info;
    if (!dladdr(address_in_plugin, &info) || !info.dli_fname || !info.dli_fname[0])
        return;
    code_range r = {(uintptr_t)info.dli_fbase, 0, 0};
    if (!dl_iterate_phdr(find_loaded_object, &r))
        return;
    atomic_store(&plugin_base, r.base);
    atomic_store(&plugin_begin, r.begin);
    atomic_store(&plugin_end, r.end);
    char *file = spare_buf(plugin_file_buf, atomic_load(&plugin_file));
    shell_word(file, SHOWN_MAX, info.dli_fname);
    /* last: a handler that sees the name sees the range and the text
     * (seq_cst) */
    atomic_store(&plugin_file, file);
    list_objects(); /* the plugin and what it brought are loaded now */
}

void wsrt_crash_set_phase(const char *phase)
{
    atomic_store(&crash_phase, phase);
}

const char *wsrt_crash_phase(void)
{
    return atomic_load(&crash_phase);
}

/* --------------------------------------------------------- interrupts */

static _Atomic int first_interrupt;
static struct sigaction saved_int, saved_term;
static int interrupts_installed;

static void on_interrupt(int sig)
{
    int expected = 0;
    line_buf b;
    if (atomic_compare_exchange_strong(&first_interrupt, &expected, sig)) {
        wsrt_note_interrupt(); /* init's loops: ws_stopping on the main ctx */
        wsrt_registry_request_stop();
        wsrt_isolate_request_stop(NULL, 1); /* the worker processes: stop, interrupt */
        wsrt_call_interrupt_hook(); /* last: a failure it causes finds the stop set */
        begin(&b);
        put_str(&b, wsrt_signal_name(sig));
        put_str(&b, ": stopping after the running tasks (");
        put_str(&b, sig == SIGINT ? "Ctrl-C again" : "a second SIGTERM");
        put_str(&b, " exits at once)");
        emit(&b);
        return;
    }
    save_and_clean();
    begin(&b);
    put_str(&b, "second ");
    put_str(&b, wsrt_signal_name(sig));
    put_str(&b, ": exiting at once with status ");
    put_u64(&b, (uint64_t)(128 + sig));
    emit(&b);
    _exit(128 + sig);
}

void wsrt_interrupts_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaction(SIGINT, &sa, &saved_int);
    sigaction(SIGTERM, &sa, &saved_term);
    interrupts_installed = 1;
}

void wsrt_interrupts_restore(void)
{
    if (!interrupts_installed)
        return;
    sigaction(SIGINT, &saved_int, NULL);
    sigaction(SIGTERM, &saved_term, NULL);
    interrupts_installed = 0;
}

int wsrt_interrupted(void)
{
    return atomic_load(&first_interrupt);
}
