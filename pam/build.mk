# pam/build.mk - pam_bast.so, the Linux-PAM bridge.  Found next to libbast
# in the build tree ($ORIGIN) and from $(LIBDIR)/security once installed
# ($ORIGIN/..).
PAM_BAST := $(B)/lib/pam_bast.so

$(PAM_BAST): $(B)/obj/pam/pam_bast.o $(LIB_SO)
	@mkdir -p $(@D)
	$(CC) -shared $(LDFLAGS) -o $@ $(B)/obj/pam/pam_bast.o -L$(B)/lib \
	    -Wl,-rpath,'$$ORIGIN:$$ORIGIN/..' -lbast -lpam -ljansson

ALL_TARGETS += $(PAM_BAST)
INSTALL_EXTRA += install -d $(DESTDIR)$(LIBDIR)/security && \
	install -m 644 $(PAM_BAST) $(DESTDIR)$(LIBDIR)/security/;
# `all:` expanded ALL_TARGETS before this fragment was read: add to it here.
all: $(PAM_BAST)
