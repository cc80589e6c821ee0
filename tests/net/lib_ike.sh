# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Real IKE daemons on the two-site topology of lib_twosite.sh (source it
# after lib.sh and lib_twosite.sh): strongSwan's charon (swanctl/vici) and
# libreswan's pluto, one daemon per router namespace, each with its own
# configuration, pid file and control socket under IKE_DIR/NS:
#
#   ts_ra: daemon, IKE_DIR/ts_ra/{run,conf}    ts_rb: the same under ts_rb
#
# charon keeps its pid file in the compiled-in /run: it is started in a
# private mount namespace (`ip netns exec`) where IKE_DIR/NS/run is bound
# over /run; it reads the strongswan.conf named by STRONGSWAN_CONF (which
# also places its vici socket), swanctl the directory named by SWANCTL_DIR.
# pluto is told its files: --config, --secretsfile, --rundir (pid file
# and control socket), --nssdir.  The configuration files written here
# are the README's, plus logging and paths.
#
# The rules, measurements and checks every daemon scenario shares are at
# the end (ike_rules, ike_measure, ike_confirm, ike_auto_conns).

IKE_DIR=${IKE_DIR:-/tmp/ike}
IKE_CHARON=${IKE_CHARON:-/usr/lib/ipsec/charon}
IKE_PLUTO=${IKE_PLUTO:-/usr/libexec/ipsec/pluto}
IKE_WHACK=${IKE_WHACK:-/usr/libexec/ipsec/whack}
IKE_PSK=ipsecmss-test-psk-0123456789abcdef
IKE_UP_MS=${IKE_UP_MS:-60000}	# daemon start, or negotiation, under TCG

declare -A IKE_PID=()

# ike_exec NS CMD...: CMD in NS's network namespace and in a private mount
# namespace where IKE_DIR/NS/run is /run.
ike_exec() {
	local ns=$1
	shift
	# shellcheck disable=SC2016 # expanded by the inner shell
	ip netns exec "$ns" sh -c '
		d=$1
		shift
		mount -o bind "$d/run" /run || exit 1
		exec "$@"' _ "$IKE_DIR/$ns" "$@"
}

# ike_prepare NS: a fresh IKE_DIR/NS with run/ (and nothing else).
ike_prepare() {
	rm -rf "${IKE_DIR:?}/$1"
	mkdir -p "$IKE_DIR/$1/run"
}

# ike_stop: stop every daemon started here (the namespace's teardown
# would kill them too; this lets charon and pluto remove their SAs first).
ike_stop() {
	local ns pids=()
	for ns in "${!IKE_PID[@]}"; do
		pids+=("${IKE_PID[$ns]}")
	done
	((${#pids[@]})) || return 0
	kill -TERM "${pids[@]}" 2>/dev/null
	_ts_gone 5000 "${pids[@]}" || kill -KILL "${pids[@]}" 2>/dev/null
	wait "${pids[@]}" 2>/dev/null
	IKE_PID=()
}

# ike_logs NS...: the tail of each daemon's log, as comments.
ike_logs() {
	local ns f
	for ns; do
		for f in "$IKE_DIR/$ns"/*.log "$IKE_DIR/$ns"/*.out; do
			[[ -s $f ]] || continue
			echo "# --- $f"
			tail -n 25 "$f" | sed 's/^/#   /'
		done
	done
}

# ike_sa_count NS: the ESP SAs with keys in NS (pluto reserves SPIs as
# keyless states while negotiating).
ike_sa_count() {
	local n=0 line
	while read -r line; do
		[[ $line == *"enc "* || $line == *"aead "* ]] && n=$((n + 1))
	done < <(ip -n "$1" xfrm state 2>/dev/null)
	echo "$n"
}

# ike_sas_up NS...: every NS has an inbound and an outbound SA (two).
ike_sas_up() {
	local ns
	for ns; do
		(($(ike_sa_count "$ns") >= 2)) || return 1
	done
}

# ike_traps_up NS...: every NS has an outbound IPsec policy (no SA needed).
ike_traps_up() {
	local ns
	for ns; do
		[[ $(ip -n "$ns" xfrm policy list dir out 2>/dev/null) == *"proto esp"* ]] || return 1
	done
}

# ike_spis NS: NS's ESP SPIs with keys, sorted, on one line.
ike_spis() {
	ip -n "$1" xfrm state 2>/dev/null |
		awk '/^src / { s = "" } / spi / { for (i = 1; i < NF; i++) if ($i == "spi") s = $(i + 1) }
		     /enc |aead / && s != "" { print s; s = "" }' | LC_ALL=C sort | tr '\n' ' '
}

# ------------------------------------------------------------ strongSwan --

IKE_SWAN_PLUGINS="random nonce openssl kdf kernel-netlink socket-default vici"

# ike_swan_conf NS LOCAL REMOTE ID PEER_ID ESP_PROPOSALS [ENCAP]: NS's
# strongswan.conf and swanctl/swanctl.conf: one IKEv2 connection "site"
# with a PSK and one CHILD_SA "lans", a tunnel carrying both inner
# families (ts_ra's LANs on one side, ts_rb's on the other).  Policy-based,
# unless IKE_SWAN_IFID is set: then its SAs and policies carry that if_id
# (an XFRM interface's; charon installs no routes); IKE_SWAN_START is the
# child's start_action (default none: ts_ra initiates).
IKE_SWAN_IFID=
IKE_SWAN_START=none
ike_swan_conf() {
	local ns=$1 me=$2 peer=$3 id=$4 pid=$5 esp=$6 encap=${7:-no} d
	local lts rts ifid="" routes=yes
	if [[ -n $IKE_SWAN_IFID ]]; then
		ifid="if_id_in = $IKE_SWAN_IFID
					if_id_out = $IKE_SWAN_IFID"
		routes=no
	fi
	d=$IKE_DIR/$ns
	if [[ $ns == "$TS_RA" ]]; then
		lts="$TS_LAN1_4,$TS_LAN1_6" rts="$TS_LAN2_4,$TS_LAN2_6"
	else
		lts="$TS_LAN2_4,$TS_LAN2_6" rts="$TS_LAN1_4,$TS_LAN1_6"
	fi
	mkdir -p "$d"/swanctl/{x509,x509ca,x509ocsp,x509aa,x509ac,x509crl,pubkey,private,rsa,ecdsa,bliss,pkcs8,pkcs12}
	cat >"$d/strongswan.conf" <<-EOF
	charon {
		load_modular = no
		load = $IKE_SWAN_PLUGINS
		install_routes = $routes
		plugins {
			vici {
				socket = unix://$d/charon.vici
			}
		}
		filelog {
			charon {
				path = $d/charon.log
				time_format = %T
				default = 1
				ike = 1
				knl = 1
			}
		}
	}
	swanctl {
		load = nonce
	}
	EOF
	cat >"$d/swanctl/swanctl.conf" <<-EOF
	connections {
		site {
			version = 2
			local_addrs = $me
			remote_addrs = $peer
			proposals = aes128-sha256-x25519
			encap = $encap
			local {
				auth = psk
				id = $id
			}
			remote {
				auth = psk
				id = $pid
			}
			children {
				lans {
					local_ts = $lts
					remote_ts = $rts
					mode = tunnel
					esp_proposals = $esp
					start_action = $IKE_SWAN_START
					$ifid
				}
			}
		}
	}
	secrets {
		ike-site {
			id-1 = $id
			id-2 = $pid
			secret = "$IKE_PSK"
		}
	}
	EOF
}

# ike_swanctl NS COMMAND ARGS...: swanctl COMMAND against NS's charon.
ike_swanctl() {
	local ns=$1 cmd=$2 d
	shift 2
	d=$IKE_DIR/$ns
	STRONGSWAN_CONF=$d/strongswan.conf SWANCTL_DIR=$d/swanctl \
		swanctl "$cmd" --uri "unix://$d/charon.vici" "$@"
}

# ike_swan_start NS: start NS's charon, wait for its vici socket, load
# its connection and secret.
ike_swan_start() {
	local ns=$1 d t0
	d=$IKE_DIR/$ns
	t0=$(now_ms)
	STRONGSWAN_CONF=$d/strongswan.conf ike_exec "$ns" "$IKE_CHARON" \
		</dev/null >"$d/charon.out" 2>&1 &
	IKE_PID[$ns]=$!
	if ! busywait "$IKE_UP_MS" test -S "$d/charon.vici" >/dev/null; then
		echo "# charon in $ns did not open its vici socket"
		return 1
	fi
	ike_swanctl "$ns" --load-all --noprompt >"$d/load.out" 2>&1 || {
		echo "# swanctl --load-all in $ns failed:"
		sed 's/^/#   /' "$d/load.out"
		return 1
	}
	echo "# charon in $ns: up and loaded in $(($(now_ms) - t0)) ms"
}

# ike_swan_up ESP_PROPOSALS [ENCAP]: charon in both routers, the tunnel
# initiated by ts_ra; returns once both routers hold their two SAs.
ike_swan_up() {
	local esp=$1 encap=${2:-no} t0 ns
	for ns in "$TS_RA" "$TS_RB"; do
		ike_prepare "$ns"
	done
	ike_swan_conf "$TS_RA" "$TS_WAN_A4" "$TS_WAN_B4" ra.example rb.example "$esp" "$encap"
	ike_swan_conf "$TS_RB" "$TS_WAN_B4" "$TS_WAN_A4" rb.example ra.example "$esp" "$encap"
	ike_swan_start "$TS_RA" && ike_swan_start "$TS_RB" || return 1
	if [[ $IKE_SWAN_START == trap ]]; then
		busywait "$IKE_UP_MS" ike_traps_up "$TS_RA" "$TS_RB" >/dev/null || {
			echo "# the trap policies are not installed in both routers"
			return 1
		}
		echo "# strongSwan trap policies installed"
		return 0
	fi
	t0=$(now_ms)
	ike_swanctl "$TS_RA" --initiate --child lans --timeout 60 \
		>"$IKE_DIR/$TS_RA/initiate.out" 2>&1 || {
		echo "# swanctl --initiate failed:"
		tail -n 15 "$IKE_DIR/$TS_RA/initiate.out" | sed 's/^/#   /'
		return 1
	}
	busywait "$IKE_UP_MS" ike_sas_up "$TS_RA" "$TS_RB" >/dev/null || {
		echo "# the CHILD_SA is not installed in both routers"
		return 1
	}
	echo "# strongSwan tunnel up in $(($(now_ms) - t0)) ms"
}

# ------------------------------------------------------------- libreswan --

# ike_lsw_conf NS LOCAL REMOTE LEFT_SUBNET RIGHT_SUBNET: NS's ipsec.conf
# (one IKEv2 connection "site", PSK, policy-based tunnel, IPv4 LANs, plus
# the line IKE_LSW_EXTRA, e.g. ipsec-interface=1) and ipsec.secrets.
IKE_LSW_EXTRA=
ike_lsw_conf() {
	local ns=$1 me=$2 peer=$3 lsub=$4 rsub=$5 d
	d=$IKE_DIR/$ns
	mkdir -p "$d/nss" "$d/ipsec.d"
	# (<<- strips the tabs; pluto wants the keys indented: spaces.)
	cat >"$d/ipsec.conf" <<-EOF
	config setup
	    logfile=$d/pluto.log
	    dumpdir=$d/run
	    dnssec-enable=no

	conn site
	    ikev2=yes
	    authby=secret
	    left=$me
	    leftsubnet=$lsub
	    right=$peer
	    rightsubnet=$rsub
	    auto=add
	${IKE_LSW_EXTRA:+    $IKE_LSW_EXTRA}
	EOF
	echo "$me $peer : PSK \"$IKE_PSK\"" >"$d/ipsec.secrets"
}

# ike_whack NS ARGS...: whack against NS's pluto.
ike_whack() {
	local ns=$1
	shift
	"$IKE_WHACK" --ctlsocket "$IKE_DIR/$ns/run/pluto/pluto.ctl" "$@"
}

# ike_lsw_start NS: NS's NSS database, pluto, and the connection loaded.
ike_lsw_start() {
	local ns=$1 d t0
	d=$IKE_DIR/$ns
	t0=$(now_ms)
	certutil -N -d "sql:$d/nss" --empty-password >"$d/certutil.out" 2>&1 || {
		echo "# certutil -N in $ns failed:"
		sed 's/^/#   /' "$d/certutil.out"
		return 1
	}
	mkdir -p "$d/run/pluto"
	ts_nsx_exec "$ns" "$IKE_PLUTO" --config "$d/ipsec.conf" --secretsfile "$d/ipsec.secrets" \
		--rundir "$d/run/pluto" --nssdir "$d/nss" --nofork </dev/null >"$d/pluto.out" 2>&1 &
	IKE_PID[$ns]=$!
	if ! busywait "$IKE_UP_MS" grep -qs '"site".*added' "$d/pluto.log" >/dev/null; then
		echo "# pluto in $ns did not load its connection"
		return 1
	fi
	echo "# pluto in $ns: up and loaded in $(($(now_ms) - t0)) ms"
}

# ike_lsw_up: pluto in both routers, the tunnel initiated by ts_ra.
ike_lsw_up() {
	local t0 ns
	for ns in "$TS_RA" "$TS_RB"; do
		ike_prepare "$ns"
	done
	ike_lsw_conf "$TS_RA" "$TS_WAN_A4" "$TS_WAN_B4" "$TS_LAN1_4" "$TS_LAN2_4"
	ike_lsw_conf "$TS_RB" "$TS_WAN_B4" "$TS_WAN_A4" "$TS_LAN2_4" "$TS_LAN1_4"
	ike_lsw_start "$TS_RA" && ike_lsw_start "$TS_RB" || return 1
	t0=$(now_ms)
	ike_whack "$TS_RA" --name site --initiate --asynchronous \
		>"$IKE_DIR/$TS_RA/initiate.out" 2>&1 || {
		echo "# whack --initiate failed:"
		tail -n 15 "$IKE_DIR/$TS_RA/initiate.out" | sed 's/^/#   /'
		return 1
	}
	busywait "$IKE_UP_MS" ike_sas_up "$TS_RA" "$TS_RB" >/dev/null || {
		echo "# the IPsec SA is not installed in both routers"
		return 1
	}
	echo "# libreswan tunnel up in $(($(now_ms) - t0)) ms"
}

# ---------------------------------------------------- rules and checks --
# One router's FORWARD (rb's unless IKE_RULE_NS says otherwise) holds the
# project's recommended rule pair
#   iptables  -A FORWARD -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead auto
#   ip6tables -A FORWARD -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead auto
# and before it, for ports 7000-8999 only, a jump to PROBE, whose
# --set-mss rules end in ACCEPT: the measuring connections never meet auto.

IKE_XFER_MS=${IKE_XFER_MS:-20000}	# transfers that must complete
IKE_STALL_MS=${IKE_STALL_MS:-1500}	# transfers expected to stall
IKE_PORT=20000		# connections that meet auto
IKE_PROBE_PORT=7000	# connections that meet PROBE

# ike_rules: PROBE, the jump to it and the auto rule pair, in IKE_RULE_NS
# (rb unless a test says otherwise).
IKE_RULE_NS=$TS_RB
ike_rules() {
	local fam
	for fam in 4 6; do
		printf '%s\n' '*filter' ':PROBE - [0:0]' \
			'-A FORWARD -p tcp -m multiport --ports 7000:8999 -j PROBE' \
			'-A FORWARD -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead auto' \
			'COMMIT' | ts_ipt_restore "$IKE_RULE_NS" "$fam" || return
	done
}

# no_pmtu_exception NS ADDR...: NS's routes to ADDRs carry no learned MTU
# (an exception left by a refused packet would make any clamp exact).
no_pmtu_exception() {
	local ns=$1 a out
	shift
	for a; do
		out=$(ip -n "$ns" route get "$a" 2>&1)
		[[ $out == *" mtu "* ]] && { echo "$out"; return 1; }
	done
	return 0
}

# ike_measure NAME FAMILY...: MEASURE the largest inner packet of each
# family crossing the tunnel whole (ts_measure_inner: DF pings into the
# PMTU black hole); sets IKE_P4 / IKE_P6 and IKE_M4 = P4 - 40, IKE_M6 =
# P6 - 60, the largest MSS whose segments cross.
ike_measure() {
	local name=$1 fam p
	shift
	for fam; do
		ts_measure_inner "$fam"
		p=$TS_INNER_MAX
		if ((TS_INNER_OK && p > 0)); then
			pass "$name: measured the largest IPv$fam packet crossing the tunnel: $p bytes"
		else
			fail "$name: no consistent largest IPv$fam packet (got $p)"
			return 1
		fi
		# shellcheck disable=SC2034 # IKE_P4 / IKE_P6: for the tests' reports
		if [[ $fam == 4 ]]; then
			IKE_P4=$p IKE_M4=$((p - 40))
		else
			IKE_P6=$p IKE_M6=$((p - 60))
		fi
	done
}

# ike_confirm NAME FAMILY...: through PROBE, TCP with --set-mss M crosses
# whole (XFER bytes from h1 to h2, no fragment on the WAN), with M + 1 it
# stalls or fragments: M is the largest MSS that works.
ike_confirm() {
	local name=$1 fam m r tag addr ok=1 bad=()
	local -A port=()
	shift
	for fam; do
		m=$IKE_M4
		[[ $fam == 6 ]] && m=$IKE_M6
		port[a$fam]=$((IKE_PROBE_PORT + 1)) port[b$fam]=$((IKE_PROBE_PORT + 2))
		IKE_PROBE_PORT=$((IKE_PROBE_PORT + 2))
		r=$IPTABLES
		[[ $fam == 6 ]] && r=$IP6TABLES
		printf '%s\n' '*filter' '-F PROBE' \
			"-A PROBE -p tcp -m multiport --ports ${port[a$fam]} -j IPSECMSS --set-mss $m" \
			"-A PROBE -p tcp -m multiport --ports ${port[b$fam]} -j IPSECMSS --set-mss $((m + 1))" \
			'-A PROBE -j ACCEPT' 'COMMIT' | ts_nsx "$IKE_RULE_NS" "$r-restore" --noflush ||
			{ fail "$name: PROBE rules"; return 1; }
	done
	for fam; do
		m=$IKE_M4 addr=$TS_H2_4
		[[ $fam == 6 ]] && m=$IKE_M6 addr=$TS_H2_6
		ts_watch_start
		tag=p$fam
		ts_xfer_start "$tag" "$TS_H1" "$TS_H2" "$addr" 100000 send "$IKE_XFER_MS" "${port[a$fam]}"
		ts_xfer_wait "$tag"
		r=$?
		ts_watch_stop
		((r == 0 && TS_FRAGS == 0)) || { ok=0; bad+=("IPv$fam --set-mss $m: rc=$r frags=$TS_FRAGS;"); }
		ts_watch_start
		tag=q$fam
		ts_xfer_start "$tag" "$TS_H1" "$TS_H2" "$addr" 100000 send "$IKE_STALL_MS" "${port[b$fam]}"
		ts_xfer_wait "$tag" quiet	# (expected to stall)
		r=$?
		ts_watch_stop
		((r != 0 || TS_FRAGS > 0)) || { ok=0; bad+=("IPv$fam --set-mss $((m + 1)) crossed whole;"); }
	done
	if ((ok)); then
		pass "$name: through --set-mss, the measured MSS crosses whole and one more does not (IPv4 $IKE_M4${IKE_M6:+, IPv6 $IKE_M6})"
	else
		fail "$name: confirming the measured MSS: ${bad[*]}"
	fi
}

# ike_syns_start: capture every segment with SYN arriving at h1 and at h2
# (a SYN at the server, a SYN/ACK at the client: both have crossed both
# routers); retransmissions included.  tcpdump, because its filter runs in
# the kernel: a capture socket that takes every packet of four transfers
# overflows under TCG and loses SYNs.  ike_syns_stop: stop; the segments
# in IKE_SYNS, one line each ("family=4 sport=P dport=Q flags=SA mss=M"),
# the packets tcpdump's kernel buffer dropped in IKE_SYN_DROPS.
IKE_SYN_FILTER='(ip and tcp[tcpflags] & tcp-syn != 0) or (ip6 and ip6[6] == 6 and ip6[53] & 2 != 0)'
declare -A IKE_CAP=()
ike_syns_start() {
	local ns tcpdump
	tcpdump=$(command -v tcpdump) || return 1
	for ns in "$TS_H1" "$TS_H2"; do
		rm -f "$TS_TMP/s.$ns".*
		ts_nsx_exec "$ns" "$tcpdump" -i eth0 -Q in -n -t -l -s 160 "$IKE_SYN_FILTER" \
			</dev/null >"$TS_TMP/s.$ns.out" 2>"$TS_TMP/s.$ns.err" &
		IKE_CAP[$ns]=$!
	done
	for ns in "$TS_H1" "$TS_H2"; do
		busywait 10000 grep -qs 'listening on' "$TS_TMP/s.$ns.err" >/dev/null ||
			{ echo "# tcpdump in $ns did not start"; return 1; }
	done
}
ike_syns_stop() {
	local ns d
	IKE_SYN_DROPS=0
	for ns in "$TS_H1" "$TS_H2"; do
		kill -INT "${IKE_CAP[$ns]}" 2>/dev/null
		wait "${IKE_CAP[$ns]}" 2>/dev/null
		d=$(sed -n 's/^\([0-9]*\) packets* dropped by kernel.*/\1/p' "$TS_TMP/s.$ns.err")
		IKE_SYN_DROPS=$((IKE_SYN_DROPS + ${d:-1}))
	done
	# "IP 192.168.10.2.40000 > 192.168.20.2.20001: Flags [S.], ... options [mss 1350,...]"
	IKE_SYNS=$(cat "$TS_TMP/s.$TS_H1.out" "$TS_TMP/s.$TS_H2.out" | awk '
		$1 == "IP" || $1 == "IP6" {
			sp = $2; sub(/.*\./, "", sp)
			dp = $4; sub(/:$/, "", dp); sub(/.*\./, "", dp)
			f = "?"; if (match($0, /Flags \[[^]]*\]/)) f = substr($0, RSTART + 7, RLENGTH - 8)
			gsub(/\./, "A", f)
			m = "none"; if (match($0, /mss [0-9]+/)) m = substr($0, RSTART + 4, RLENGTH - 4)
			printf "family=%s sport=%s dport=%s flags=%s mss=%s\n", ($1 == "IP6" ? 6 : 4), sp, dp, f, m
		}')
}

# ike_syns_check NAME PORT...: in IKE_SYNS, every SYN and SYN/ACK of the
# connections to PORTs carries the measured MSS of its family, and each
# connection has at least one of both.
ike_syns_check() {
	local name=$1 line fam flags mss sp dp want n=0 bad=() p
	local -A syn=() synack=() wanted=()
	shift
	for p; do
		wanted[$p]=1
	done
	while read -r line; do
		[[ -n $line ]] || continue
		fam=$(ts_kv family "$line") flags=$(ts_kv flags "$line") mss=$(ts_kv mss "$line")
		sp=$(ts_kv sport "$line") dp=$(ts_kv dport "$line")
		if [[ -n ${wanted[$dp]+x} && $flags != *A* ]]; then
			syn[$dp]=$((${syn[$dp]:-0} + 1))
		elif [[ -n ${wanted[$sp]+x} && $flags == *A* ]]; then
			synack[$sp]=$((${synack[$sp]:-0} + 1))
		else
			continue
		fi
		n=$((n + 1))
		want=$IKE_M4
		[[ $fam == 6 ]] && want=${IKE_M6:--}
		[[ $mss == "$want" ]] || bad+=("$fam $sp>$dp $flags mss=$mss (want $want);")
	done <<<"$IKE_SYNS"
	for p; do
		((${syn[$p]:-0} && ${synack[$p]:-0})) ||
			bad+=("port $p: ${syn[$p]:-0} SYN, ${synack[$p]:-0} SYN/ACK captured;")
	done
	((IKE_SYN_DROPS == 0)) || bad+=("the capture lost $IKE_SYN_DROPS packets;")
	if ((${#bad[@]} == 0)); then
		pass "$name: all $n SYN and SYN/ACK copies captured at h1 and h2 (retransmissions included) carry the measured MSS (IPv4 $IKE_M4${IKE_M6:+, IPv6 $IKE_M6})"
	else
		fail "$name: SYN MSS: ${bad[*]}"
	fi
}

# ike_auto_conns NAME BYTES FAMILY...: through the auto rule pair, for
# each family one connection h1 -> h2 and one h2 -> h1, each client
# sending BYTES: both transfers complete, no fragment on the WAN, every
# SYN and SYN/ACK carries the measured MSS.  NATT=1 in IKE_NATT: the ESP
# crossed in UDP, 0: bare.
ike_auto_conns() {
	local name=$1 bytes=$2 fam tag cns sns addr ok=1 bad=() ports=() c
	local tags=()
	shift 2
	ike_syns_start
	ts_watch_start
	for fam; do
		for c in "a$fam $TS_H1 $TS_H2" "b$fam $TS_H2 $TS_H1"; do
			read -r tag cns sns <<<"$c"
			if [[ $cns == "$TS_H1" ]]; then
				addr=$TS_H2_4
				[[ $fam == 6 ]] && addr=$TS_H2_6
			else
				addr=$TS_H1_4
				[[ $fam == 6 ]] && addr=$TS_H1_6
			fi
			IKE_PORT=$((IKE_PORT + 1))
			ports+=("$IKE_PORT")
			tags+=("$tag")
			ts_xfer_start "$tag" "$cns" "$sns" "$addr" "$bytes" send "$IKE_XFER_MS" "$IKE_PORT"
		done
	done
	for tag in "${tags[@]}"; do
		ts_xfer_wait "$tag" || { ok=0; bad+=("$tag: transfer failed;"); }
	done
	ts_watch_stop
	ike_syns_stop
	((TS_FRAGS == 0 && TS_ESP > 0 && TS_ESP_MAX_LEN <= TS_WAN_MTU)) ||
		{ ok=0; bad+=("WAN: esp=$TS_ESP frags=$TS_FRAGS largest ESP $TS_ESP_MAX_LEN (MTU $TS_WAN_MTU);"); }
	if ((${IKE_NATT:-0})); then
		((TS_NATT_PKTS > 0)) || { ok=0; bad+=("no ESP in UDP on the WAN;"); }
	else
		((TS_NATT_PKTS == 0)) || { ok=0; bad+=("$TS_NATT_PKTS ESP-in-UDP packets, want bare ESP;"); }
	fi
	if ((ok)); then
		pass "$name: auto: ${#tags[@]} connections (h1 -> h2 and h2 -> h1, IPv$*) each sent $bytes bytes intact, no fragment on the WAN, largest ESP packet $TS_ESP_MAX_LEN"
	else
		fail "$name: auto: ${bad[*]}"
	fi
	ike_syns_check "$name" "${ports[@]}"
}
