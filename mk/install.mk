# mk/install.mk - make install / make uninstall.  PREFIX is where wsrun will
# live (written into the .pc files); DESTDIR only stages the files
# (packaging).  The installed wsrun finds the plugins in $(PREFIX)/lib/wsrun
# by itself: it looks in <its folder>/../lib/wsrun.  Never writes outside
# $(DESTDIR)$(PREFIX).
#
# The wsrun Python package goes to PYDIR: for the default PREFIX the folder
# Debian's python3 searches (its sysconfig's default scheme:
# /usr/local/lib/python3.11/dist-packages); for another PREFIX the
# posix_prefix scheme's PREFIX/lib/python3.11/site-packages, which python3
# does not search, so install prints the PYTHONPATH to set.  Its extension
# finds libwsrun in PREFIX/lib by its run path ($$ORIGIN/../../..).

.PHONY: install uninstall

BINDIR     = $(PREFIX)/bin
LIBDIR     = $(PREFIX)/lib
PLUGINDIR  = $(PREFIX)/lib/wsrun
INCLUDEDIR = $(PREFIX)/include
PCDIR      = $(PREFIX)/lib/pkgconfig
MANDIR     = $(PREFIX)/share/man
MAN_PAGES := docs/man/wsrun.1 docs/man/wsrun-plugin.7
PYTHON    ?= /usr/bin/python3
PYDIR      = $(shell $(PYTHON) -c "import sysconfig as s; p = '$(PREFIX)'.rstrip('/'); \
    print(s.get_path('platlib') if p == '/usr/local' else \
    s.get_path('platlib', 'posix_prefix', vars={'base': p, 'platbase': p}))")
PY_INSTALLED = $(notdir $(PY_EXT) $(PY_PKG_FILES))

install: all lib python $(MAN_PAGES) wsrun.pc.in libwsrun.pc.in
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(INCLUDEDIR) \
	    $(DESTDIR)$(PCDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	install -m 755 $(BUILD)/wsrun $(DESTDIR)$(BINDIR)/wsrun
	install -m 755 $(INSTALLED_PLUGIN_NAMES:%=$(BUILD)/plugins/%.so) $(DESTDIR)$(PLUGINDIR)/
	install -m 644 include/wsrun.h include/wsrun_embed.h $(DESTDIR)$(INCLUDEDIR)/
	for pc in wsrun libwsrun; do \
	    sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(WS_VERSION)|g' $$pc.pc.in \
	        > $(DESTDIR)$(PCDIR)/$$pc.pc.tmp && \
	    mv $(DESTDIR)$(PCDIR)/$$pc.pc.tmp $(DESTDIR)$(PCDIR)/$$pc.pc && \
	    chmod 644 $(DESTDIR)$(PCDIR)/$$pc.pc || exit 1; done
	install -m 755 $(BUILD)/$(LIB_REAL) $(DESTDIR)$(LIBDIR)/$(LIB_REAL)
	ln -sf $(LIB_REAL) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libwsrun.so
	install -m 644 $(BUILD)/libwsrun.a $(DESTDIR)$(LIBDIR)/libwsrun.a
	install -m 644 docs/man/wsrun.1 $(DESTDIR)$(MANDIR)/man1/wsrun.1
	install -m 644 docs/man/wsrun-plugin.7 $(DESTDIR)$(MANDIR)/man7/wsrun-plugin.7
	@# wsrun-mpi and its page, only after `make mpi` or with MPI=1 (the
	@# stamp): the copy `make test` builds for its tests is not installed.
	if [ -f $(MPI_STAMP) ] && [ -x $(BUILD)/wsrun-mpi ]; then \
	    install -m 755 $(BUILD)/wsrun-mpi $(DESTDIR)$(BINDIR)/wsrun-mpi && \
	    install -m 644 docs/man/wsrun-mpi.1 $(DESTDIR)$(MANDIR)/man1/wsrun-mpi.1; fi
	install -d $(DESTDIR)$(PYDIR)/wsrun
	install -m 644 $(PY_PKG_FILES) $(DESTDIR)$(PYDIR)/wsrun/
	install -m 755 $(PY_EXT) $(DESTDIR)$(PYDIR)/wsrun/
	@# Byte code beside it, naming the final folder: a user who cannot
	@# write there (root installed it) would otherwise compile the
	@# package at every import (about 18 M instructions).
	$(PYTHON) -m compileall -q -d $(PYDIR)/wsrun $(DESTDIR)$(PYDIR)/wsrun
	@$(PYTHON) -c "import sys; sys.exit('$(PYDIR)' in sys.path)" && \
	    echo "wsrun: the Python package is in $(PYDIR), which $(PYTHON) does not search:" \
	         "set PYTHONPATH=$(PYDIR) to import wsrun" || true

# Removes exactly what install put there, and the plugin folder if that
# leaves it empty; shared folders (bin, include, ...) stay.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/wsrun $(INSTALLED_PLUGIN_NAMES:%=$(DESTDIR)$(PLUGINDIR)/%.so) \
	    $(DESTDIR)$(INCLUDEDIR)/wsrun.h $(DESTDIR)$(PCDIR)/wsrun.pc \
	    $(DESTDIR)$(INCLUDEDIR)/wsrun_embed.h $(DESTDIR)$(PCDIR)/libwsrun.pc \
	    $(DESTDIR)$(LIBDIR)/$(LIB_REAL) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME) \
	    $(DESTDIR)$(LIBDIR)/libwsrun.so $(DESTDIR)$(LIBDIR)/libwsrun.a \
	    $(DESTDIR)$(MANDIR)/man1/wsrun.1 $(DESTDIR)$(MANDIR)/man7/wsrun-plugin.7 \
	    $(DESTDIR)$(BINDIR)/wsrun-mpi $(DESTDIR)$(MANDIR)/man1/wsrun-mpi.1
	-rmdir $(DESTDIR)$(PLUGINDIR) 2>/dev/null
	rm -f $(PY_INSTALLED:%=$(DESTDIR)$(PYDIR)/wsrun/%)
	@# python3 writes its byte code beside the sources it imports.
	rm -rf $(DESTDIR)$(PYDIR)/wsrun/__pycache__
	-rmdir $(DESTDIR)$(PYDIR)/wsrun 2>/dev/null
