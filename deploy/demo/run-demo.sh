#!/usr/bin/env bash
# The README's first command. Delivered by the VRRP issue; until then it says so and fails.
echo "make demo: the VRRP failover lab is not implemented yet (see the vrrpd issue)." >&2
exit 1
