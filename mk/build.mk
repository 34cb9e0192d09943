# mk/build.mk - what is built and from what: the runtime, wsrun, the plugins,
# the built-in plugins' helpers, libwsrun and wsrun-mpi.  Every rule names
# all it reads (objects, archives, generated lists) as prerequisites, so any
# target builds from a clean tree alone; headers come from the .d files.
#
# New plugins need no edit here: tasks/*.c, plugins/*.c and
# plugins/<name>/<name>.c each become build/plugins/<name>.so.  The first two
# kinds are installed; a plugin in a folder of its own (plugins/template/)
# is a starting point to copy, built and tested here but not installed.

RUNTIME_SRCS := $(filter-out runtime/cmd/main.c,$(wildcard $(RT_LAYERS:%=runtime/%/*.c)))
RUNTIME_OBJS := $(RUNTIME_SRCS:%.c=$(BUILD)/obj/%.o)
TASK_SRCS    := $(wildcard tasks/*.c)
PLUGIN_SRCS  := $(wildcard plugins/*.c)
PLUGIN_DIR_SRCS := $(foreach d,$(wildcard plugins/*/),$(wildcard $(d)$(notdir $(d:/=)).c))
PLUGIN_NAMES := $(notdir $(TASK_SRCS:.c=) $(PLUGIN_SRCS:.c=) $(PLUGIN_DIR_SRCS:.c=))
PLUGINS      := $(PLUGIN_NAMES:%=$(BUILD)/plugins/%.so)
INSTALLED_PLUGIN_NAMES := $(notdir $(TASK_SRCS:.c=) $(PLUGIN_SRCS:.c=))

.PHONY: all deps
all: $(BUILD)/wsrun $(PLUGINS)

deps:
	@scripts/need-debian-packages $(BUILD_PKGS)

# ---------------------------------------------------------------- public API
# Only what include/wsrun.h declares WS_API leaves wsrun: the runtime is
# compiled with hidden visibility (the header marks its functions default),
# and every program linked with $(EXPORT_DYNAMIC) exports the names listed
# from the header (tests/cli/exports.sh checks both).
DYNLIST        := $(BUILD)/wsrun.dynlist
EXPORT_DYNAMIC  = -Wl,--dynamic-list=$(DYNLIST)

$(DYNLIST): include/wsrun.h scripts/public-functions
	@mkdir -p $(dir $@)
	scripts/public-functions --dynlist include/wsrun.h > $@.tmp
	mv $@.tmp $@

# ---------------------------------------------------------------- the runtime
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(DEPFLAGS) -c $< -o $@

$(BUILD)/libwsrt.a: $(RUNTIME_OBJS)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/wsrun: $(BUILD)/obj/runtime/cmd/main.o $(BUILD)/libwsrt.a $(DYNLIST)
	$(CC) $(CFLAGS_ALL) $(EXPORT_DYNAMIC) $(filter %.o %.a,$^) -o $@ -ldl -lm

PUBLIC_API_OBJS := $(RUNTIME_OBJS) $(BUILD)/obj/runtime/cmd/main.o
$(PUBLIC_API_OBJS): CFLAGS_ALL += -fvisibility=hidden

# ---------------------------------------------------------------- plugins
# Position-independent, undefined ws_* symbols left to the host; the
# built-in ones (tasks/*.c) link the shared helpers of tasks/common/.
PLUGIN_FLAGS = $(CFLAGS_ALL) $(DEPFLAGS) -MF $@.d -MT $@ -fPIC -shared

$(BUILD)/plugins/%.so: tasks/%.c $(BUILD)/libwstasks.a
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_FLAGS) $(PNG_CFLAGS) $< $(BUILD)/libwstasks.a -o $@ $(PNG_LIBS) -lm

# The python plugin embeds Debian's CPython: its headers as system headers
# (not held to WARN), libpython linked in, and python/wsrun_boot.py compiled
# in as a C string ($(BUILD)/gen/python_boot.h), after python/wsrun/_common.py
# (the code the plugin shares with the wsrun package).
PYTHON_CONFIG ?= /usr/bin/python3-config
$(BUILD)/gen/python_boot.h: python/wsrun/_common.py python/wsrun_boot.py
	@mkdir -p $(dir $@)
	cat $^ | sed 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$$/\\n"/' > $@.tmp
	mv $@.tmp $@

$(BUILD)/plugins/python.so: tasks/python.c $(BUILD)/gen/python_boot.h
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_FLAGS) $(patsubst -I%,-isystem %,$(shell $(PYTHON_CONFIG) --includes)) \
	    -I$(BUILD)/gen $< -o $@ $(shell $(PYTHON_CONFIG) --embed --ldflags)

# ---------------------------------------------------------------- import wsrun
# The wsrun Python package (docs/python.md, "The wsrun module"), ready in
# $(BUILD)/python/wsrun/ for PYTHONPATH=$(BUILD)/python: python/wsrun/*.py
# and the .pyi stub copied, python/*.c linked into the extension
# _wsrun$(PY_EXT_SUFFIX) against libwsrun.so.  Its run path finds the
# library in the build tree ($(BUILD)/python/wsrun -> $(BUILD)) and in an
# install (PREFIX/lib/python3.11/*-packages/wsrun -> PREFIX/lib).
PY_INCLUDES    = $(patsubst -I%,-isystem %,$(shell $(PYTHON_CONFIG) --includes))
PY_EXT_SUFFIX  = $(shell $(PYTHON_CONFIG) --extension-suffix)
PY_PKG_DIR    := $(BUILD)/python/wsrun
PY_PKG_SRCS   := $(wildcard python/wsrun/*.py python/wsrun/*.pyi)
PY_PKG_FILES  := $(PY_PKG_SRCS:python/wsrun/%=$(PY_PKG_DIR)/%)
PY_EXT_OBJS   := $(patsubst %.c,$(BUILD)/pyobj/%.o,$(wildcard python/*.c))
PY_EXT         = $(PY_PKG_DIR)/_wsrun$(PY_EXT_SUFFIX)
# The package's byte code, compiled once here: with PYTHONDONTWRITEBYTECODE
# set (or a read-only tree) python3 would compile the sources again at
# every `import wsrun`, about 18 million instructions (docs/benchmarks.md).
PY_PYC_STAMP  := $(BUILD)/pyobj/bytecode.stamp

.PHONY: python
all: python
python: $(PY_EXT) $(PY_PKG_FILES) $(PY_PYC_STAMP)

$(PY_PKG_DIR)/%: python/wsrun/%
	@mkdir -p $(dir $@)
	cp $< $@

$(PY_PYC_STAMP): $(filter %.py,$(PY_PKG_FILES))
	@mkdir -p $(dir $@)
	$(PYTHON) -m compileall -q $(PY_PKG_DIR)
	@touch $@

$(BUILD)/pyobj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(DEPFLAGS) -fPIC -fvisibility=hidden -Itasks $(PY_INCLUDES) -c $< -o $@

$(PY_EXT): $(PY_EXT_OBJS) $(BUILD)/libwsrun.so
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -shared $(PY_EXT_OBJS) -o $@ -L$(BUILD) -l:$(LIB_SONAME) \
	    -Wl,-rpath,'$$ORIGIN/../..:$$ORIGIN/../../..'

$(BUILD)/plugins/%.so: plugins/%.c
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_FLAGS) $< -o $@ -lm

# plugins/<name>/<name>.c (a pattern rule can name the stem only once).
define plugin_in_folder
$(BUILD)/plugins/$(1).so: plugins/$(1)/$(1).c
	@mkdir -p $$(dir $$@)
	$$(CC) $$(PLUGIN_FLAGS) $$< -o $$@ -lm
endef
$(foreach n,$(notdir $(PLUGIN_DIR_SRCS:.c=)),$(eval $(call plugin_in_folder,$(n))))

# Code the built-in plugins share (tasks/common/: input selection, PNG
# decoding, manifest text), compiled once into a static library of
# position-independent, hidden objects that each plugin links: a plugin
# exports none of it, and never binds to wsrun's own symbols.  The JSON
# string escaper is the runtime's own source compiled again here: one
# escaper, each side with its own hidden copy.
TASKS_LIB_SRCS := $(wildcard tasks/common/*.c)
TASKS_LIB_OBJS := $(TASKS_LIB_SRCS:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/tasks/common/json_escape.o
$(TASKS_LIB_OBJS): CFLAGS_ALL += $(PNG_CFLAGS) -fPIC -fvisibility=hidden

$(BUILD)/obj/tasks/common/json_escape.o: runtime/base/json_escape.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(DEPFLAGS) -c $< -o $@

$(BUILD)/libwstasks.a: $(TASKS_LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

# ---------------------------------------------------------------- libwsrun
# The embedding library (include/wsrun_embed.h, docs/embedding.md): the
# runtime less the command layer, compiled again position-independent, as
# build/libwsrun.so (soname libwsrun.so.1) and build/libwsrun.a.  wsrun
# itself keeps linking its own objects statically (no rpath, nothing to
# install beside it).  Its layers are the folders base, sched, plugin,
# isolate and embed; reports and cmd are the command's (docs/design.md, "Layers").  The
# library links with --no-undefined, so library code that calls into the
# command fails the link, loudly (not in the clang ASan build, whose
# runtime the program that loads the library brings: LIB_NO_UNDEFINED=).
LIB_NO_UNDEFINED ?= -Wl,--no-undefined
WS_VERSION = $(shell sed -n 's/^\#define WS_VERSION "\(.*\)"/\1/p' include/wsrun.h)
LIB_LAYERS := base sched plugin isolate embed
LIB_SRCS   := $(wildcard $(LIB_LAYERS:%=runtime/%/*.c))
LIB_OBJS   := $(LIB_SRCS:%.c=$(BUILD)/pic/%.o)
LIB_SONAME := libwsrun.so.1
LIB_REAL    = libwsrun.so.$(WS_VERSION)
LIB_MAP    := $(BUILD)/libwsrun.map

.PHONY: lib
lib: $(BUILD)/libwsrun.so $(BUILD)/libwsrun.a

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(DEPFLAGS) -fPIC -fvisibility=hidden -c $< -o $@

# Exactly the WS_API functions of the two headers leave the library.
$(LIB_MAP): include/wsrun.h include/wsrun_embed.h scripts/public-functions
	@mkdir -p $(dir $@)
	scripts/public-functions --version-script include/wsrun.h include/wsrun_embed.h > $@.tmp
	mv $@.tmp $@

$(BUILD)/libwsrun.so: $(LIB_OBJS) $(LIB_MAP)
	$(CC) $(CFLAGS_ALL) -shared -Wl,-soname,$(LIB_SONAME) $(LIB_NO_UNDEFINED) \
	    -Wl,--version-script=$(LIB_MAP) $(LIB_OBJS) -o $(BUILD)/$(LIB_REAL) -ldl -lm
	ln -sf $(LIB_REAL) $(BUILD)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $@

$(BUILD)/libwsrun.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

# ---------------------------------------------------------------- wsrun-mpi
# The same CLI on MPI ranks that share the index space (docs/distributed.md).
# Built by `make mpi` (or `make MPI=1`), which leaves $(MPI_STAMP): that is
# what makes `make install` install it; the tests build it too, without the
# stamp.  wsrun itself never needs MPI.
MPICC     ?= mpicc
MPI_SRCS  := $(wildcard runtime/mpi/*.c)
MPI_OBJS  := $(MPI_SRCS:%.c=$(BUILD)/obj/%.o)
MPI_STAMP := $(BUILD)/wsrun-mpi.wanted
$(MPI_OBJS): CFLAGS_ALL += -fvisibility=hidden

.PHONY: mpi mpi-build
mpi:
	@scripts/need-debian-packages $(BUILD_PKGS) $(MPI_PKGS)
	@$(MAKE) --no-print-directory mpi-build

mpi-build: $(BUILD)/wsrun-mpi $(PLUGINS)
	@touch $(MPI_STAMP)

ifeq ($(MPI),1)
all: mpi
endif

$(BUILD)/obj/runtime/mpi/%.o: runtime/mpi/%.c
	@mkdir -p $(dir $@)
	$(MPICC) $(CFLAGS_ALL) $(DEPFLAGS) -c $< -o $@

$(BUILD)/wsrun-mpi: $(MPI_OBJS) $(BUILD)/libwsrt.a $(DYNLIST)
	$(MPICC) $(CFLAGS_ALL) $(EXPORT_DYNAMIC) $(filter %.o %.a,$^) -o $@ -ldl -lm

# ---------------------------------------------------------------- run
.PHONY: run
run: deps all
	@mkdir -p out
	cd out && ../$(BUILD)/wsrun --plugin noise.so --count 2000
	@echo "wrote $$(ls out | grep -c '^image_.*\.png$$') images to out/"
