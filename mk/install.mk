# mk/install.mk - make install / make uninstall.  PREFIX is where wsrun will
# live (written into the .pc files); DESTDIR only stages the files
# (packaging).  The installed wsrun finds the plugins in $(PREFIX)/lib/wsrun
# by itself: it looks in <its folder>/../lib/wsrun.  Never writes outside
# $(DESTDIR)$(PREFIX).

.PHONY: install uninstall

BINDIR     = $(PREFIX)/bin
LIBDIR     = $(PREFIX)/lib
PLUGINDIR  = $(PREFIX)/lib/wsrun
INCLUDEDIR = $(PREFIX)/include
PCDIR      = $(PREFIX)/lib/pkgconfig
MANDIR     = $(PREFIX)/share/man
MAN_PAGES := docs/man/wsrun.1 docs/man/wsrun-plugin.7

install: all lib $(MAN_PAGES) wsrun.pc.in libwsrun.pc.in
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
