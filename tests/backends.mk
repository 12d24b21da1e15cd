# Capture backends (af_packet, io_uring, socket): the driver program of
# tests/integration/test_backends_veth.sh, built by `make test-build`:
#   $(BUILD)/tests/fg_backend_probe   open a backend, count what arrives, print JSON

BACKEND_PROBE := $(BUILD)/tests/fg_backend_probe

$(BACKEND_PROBE): tests/integration/fg_backend_probe.c $(LIB_A) $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -Itests -o $@ $< $(LIB_A) $(LDLIBS)

test-build: $(BACKEND_PROBE)
