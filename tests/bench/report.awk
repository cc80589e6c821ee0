# SPDX-License-Identifier: GPL-2.0
#
# Turns the raw "BENCH ..." lines of the guest scripts (and of the host's
# micro-benchmark) into the tables `make bench` prints.
#
#   awk -f tests/bench/report.awk VM-LOG [MICRO-RESULTS]
#
# Per repetition, the router's cost of a packet is the path's time per
# packet less the direct generator->sink path's, measured in the same
# repetition; every ratio is taken within one repetition, and the table
# shows the median over repetitions and the min..max spread.

function kv(s, k,    i, n, a) {
	n = split(s, a, " ")
	for (i = 1; i <= n; i++)
		if (index(a[i], k "=") == 1)
			return substr(a[i], length(k) + 2)
	return ""
}

# median/min/max of the values v[1..n] (sorted in place)
function stats(v, n,    i, j, x) {
	for (i = 2; i <= n; i++) {
		x = v[i]
		for (j = i - 1; j >= 1 && v[j] > x; j--)
			v[j + 1] = v[j]
		v[j + 1] = x
	}
	S_MIN = v[1]; S_MAX = v[n]
	S_MED = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	return n
}

function add_var(kind, var) {
	if (!((kind, var) in seenvar)) {
		seenvar[kind, var] = 1
		nvars[kind]++
		varlist[kind, nvars[kind]] = var
	}
}

# The variant without a rule on the same path: "tun-none" for the
# single-tunnel router, PATH-none for the 4-tunnel gateway's paths
# (m4i-auto -> m4i-none), "none" for the plain router.
function base_of(var,    p) {
	if (var ~ /^tun-/)
		return "tun-none"
	if (var ~ /^m[0-9a-z]+[io]-/) {
		p = var
		sub(/-.*/, "", p)
		return p "-none"
	}
	return "none"
}

# ratio_stats KIND NUM DEN: per-rep cost[DEN]/cost[NUM]... i.e. the rate of
# NUM relative to DEN (rate is 1/cost).  Sets S_*; returns the count.
function rate_ratio(kind, num, den,    r, n, v) {
	n = 0
	for (r = 1; r <= maxrep; r++)
		if ((kind, num, r) in cost && (kind, den, r) in cost && cost[kind, num, r] > 0)
			v[++n] = cost[kind, den, r] / cost[kind, num, r]
	if (n)
		stats(v, n)
	return n
}

function delta_stats(kind, num, den,    r, n, v) {
	n = 0
	for (r = 1; r <= maxrep; r++)
		if ((kind, num, r) in cost && (kind, den, r) in cost)
			v[++n] = cost[kind, num, r] - cost[kind, den, r]
	if (n)
		stats(v, n)
	return n
}

function rule_of(var) {
	return rules[var] == "" ? "(no rule)" : rules[var]
}

/BENCH conf/ {
	line = $0
	sub(/.*BENCH conf /, "", line)
	if (kv(line, "kind") == "syn") {
		conf_syn = line
		guest_kernel = kv(line, "kernel")
	} else if (kv(line, "kind") == "goodput") {
		conf_gp = line
	} else if (kv(line, "kind") == "bulk") {
		conf_bulk = line
	} else if (kv(line, "clocksource") != "") {
		clocksource = kv(line, "clocksource")
	}
	next
}

/BENCH (syn|ack) rep=/ {
	line = $0
	sub(/.*BENCH /, "", line)
	kind = substr(line, 1, 3)
	rep = kv(line, "rep") + 0
	var = kv(line, "var")
	n = kv(line, "n") + 0
	per = kv(line, "ns") / n
	if (rep > maxrep)
		maxrep = rep
	if (var ~ /^direct/) {
		direct[kind, var, rep] = per
	} else {
		add_var(kind, var)
		path[kind, var, rep] = per
		# The direct path of the variant's family (older logs: IPv4).
		dirof[var] = kv(line, "dir") == "" ? "direct" : kv(line, "dir")
	}
	busy[kind] += kv(line, "busy"); idle[kind] += kv(line, "idle")
	# Idle ticks of short runs (direct path, plain router) and long ones
	# (tunnel router, twice the time): idle inside the send loop would grow
	# with it.
	cls = var ~ /^(tun-|m[0-9a-z]+[io]-)/ ? "long" : "short"
	idle_c[kind, cls] += kv(line, "idle"); runs_c[kind, cls]++; loop_c[kind, cls] += kv(line, "ns") / 1e6
	drops[kind] += kv(line, "drops")
	if (kv(line, "rx") + 0 != n)
		lost[kind]++
	meas[kind]++
	next
}

/BENCH rule / {
	line = $0
	sub(/.*BENCH rule /, "", line)
	v = line; sub(/ .*/, "", v)
	r = line; sub(/^[^ ]* */, "", r)
	rules[v] = r
	next
}

/BENCH bulkrule / {
	line = $0
	sub(/.*BENCH bulkrule /, "", line)
	v = line; sub(/:.*/, "", v)
	r = line; sub(/^[^:]*: */, "", r)
	bulkrule[v] = r
	next
}

/BENCH bulk mode=/ {
	line = $0
	sub(/.*BENCH bulk /, "", line)
	m = kv(line, "mode"); rep = kv(line, "rep") + 0; var = kv(line, "var")
	if (!(m in bmseen)) { bmseen[m] = 1; bmodes[++nbmodes] = m }
	if (!(var in bvseen)) { bvseen[var] = 1; bvars[++nbvars] = var }
	if (rep > bmaxrep)
		bmaxrep = rep
	btime[m, var, rep] = kv(line, "ns") / 1e6
	bbytes = kv(line, "bytes")
	bbusy[m] += kv(line, "busy"); bidle[m] += kv(line, "idle")
	next
}

/BENCH goodput rep=/ {
	line = $0
	sub(/.*BENCH goodput /, "", line)
	rep = kv(line, "rep") + 0
	var = kv(line, "var")
	if (!(var in gseen)) {
		gseen[var] = 1
		gvars[++ngvars] = var
	}
	if (rep > gmaxrep)
		gmaxrep = rep
	b = kv(line, "bytes")
	gtime[var, rep] = kv(line, "ns") / 1e6
	gmss[var] = kv(line, "mss")
	txip = kv(line, "txb") - 14 * kv(line, "txp")
	rxip = kv(line, "rxb") - 14 * kv(line, "rxp")
	geff[var, rep] = b / txip
	geff2[var, rep] = b / (txip + rxip)
	gpkts[var, rep] = kv(line, "txp")
	gfrags[var, rep] = kv(line, "frags")
	gput[var, rep] = b * 8 / (kv(line, "ns") / 1e9) / 1e6
	next
}

/BENCH prof / {
	line = $0
	sub(/.*BENCH prof /, "", line)
	np++
	pkind[np] = kv(line, "kind"); pvar[np] = kv(line, "var"); pfn[np] = kv(line, "fn")
	pcalls[np] = kv(line, "calls"); pmed[np] = kv(line, "median")
	pmean[np] = kv(line, "mean") == "" ? pmed[np] : kv(line, "mean")
	if (pfn[np] == "ipsecmss_mss_for_mtu" && pmed[np] > 0)
		calib = pmed[np] - 10
	next
}

/^BENCH micro / {
	nm++
	mlay[nm] = kv($0, "layout"); mop[nm] = kv($0, "op"); mir[nm] = kv($0, "ir")
	mhdr[mlay[nm]] = kv($0, "hdr")
	micro[mlay[nm], mop[nm]] = kv($0, "ir")
	if (!(mlay[nm] in mseen)) {
		mseen[mlay[nm]] = 1
		mlays[++nmlays] = mlay[nm]
	}
	next
}

END {
	# Router cost per packet, per repetition.
	for (kind in nvars)
		for (i = 1; i <= nvars[kind]; i++) {
			var = varlist[kind, i]
			for (r = 1; r <= maxrep; r++)
				if ((kind, var, r) in path && (kind, dirof[var], r) in direct)
					cost[kind, var, r] = path[kind, var, r] - direct[kind, dirof[var], r]
		}

	if (nvars["syn"]) {
		printf "\n== Forwarded SYN rate (guest %s; %s) ==\n", guest_kernel, conf_syn
		print_kind("syn")
	}
	if (nvars["ack"]) {
		printf "\n== Non-SYN traffic: pure ACKs (TS option) through the rules without a SYN match ==\n"
		print_kind("ack")
	}
	if (nvars["syn"]) {
		printf "\n== Goals (per-repetition ratios of router rates; median [min..max]) ==\n"
		goal("syn", "ipsecmss-set", "tcpmss-set", 0.98, "IPSECMSS --set-mss / TCPMSS --set-mss")
		goal("syn", "ipsecmss-set+syn", "tcpmss-set", 0.98, "  same, IPSECMSS with the SYN match too")
		goal("syn", "tun-auto", "tun-tcpmss-pmtu", 0.95, "auto (real SA) / TCPMSS --clamp-mss-to-pmtu")
		goal("syn", "tun-auto+syn", "tun-tcpmss-pmtu", 0.95, "  same, auto with the SYN match too")
		mt_goals()
	}
	if (nvars["ack"]) {
		ackgoal("ipsecmss-set", "none"); ackgoal("ipsecmss-set", "rule-only")
		ackgoal("ipsecmss-73", "none"); ackgoal("tun-auto", "tun-none")
		ackgoal("tcpmss-set", "none")
	}
	if (nvars["syn"] || nvars["ack"])
		evidence()
	if (ngvars)
		print_goodput()
	if (nbmodes)
		print_bulk()
	if (np)
		print_profile()
	if (nm)
		print_micro()
}

# The 4-tunnel gateway's goals, per path (m4i ... mvo), in one table.
function mt_goals(    i, var, p, n, what, nm, pl) {
	nm = 0
	for (i = 1; i <= nvars["syn"]; i++) {
		var = varlist["syn", i]
		if (var ~ /^m[0-9a-z]+[io]-none$/) {
			p = var
			sub(/-none$/, "", p)
			pl[++nm] = p
		}
	}
	if (!nm)
		return
	printf "\n4-tunnel dual-stack gateway (rtm: 2 policy-based, XFRM interface, VTI; i = SYN entering\n"
	printf "the tunnel, o = leaving it; m4 IPv4 policy, m6 IPv6 policy, mx XFRM interface, mv VTI):\n"
	for (i = 1; i <= nm; i++) {
		p = pl[i]
		goal("syn", p "-ipsecmss-set", p "-tcpmss-set", 0.98, p ": IPSECMSS --set-mss / TCPMSS --set-mss")
		goal("syn", p "-auto", p "-tcpmss-pmtu", 0.95, p ": auto / TCPMSS --clamp-mss-to-pmtu")
		ratio("syn", p "-auto-nocache", p "-tcpmss-pmtu", p ": auto, cache not usable / TCPMSS")
	}
}

# ratio KIND NUM DEN WHAT: a rate ratio shown for information, no goal.
function ratio(kind, num, den, what,    n) {
	n = rate_ratio(kind, num, den)
	if (!n)
		return
	printf "%-46s %.3f [%.3f..%.3f]  (no goal)\n", what, S_MED, S_MIN, S_MAX
	if (delta_stats(kind, num, den))
		printf "%-46s %+.0f ns (instructions) per SYN [%+.0f..%+.0f]\n", "  cost difference", S_MED, S_MIN, S_MAX
}

function print_direct(kind, dvar, what,    n, r, v) {
	n = 0
	for (r = 1; r <= maxrep; r++)
		if ((kind, dvar, r) in direct)
			v[++n] = direct[kind, dvar, r]
	if (!n)
		return
	stats(v, n)
	printf "direct generator->sink path%s: %.0f ns/pkt [%.0f..%.0f], %d repetitions\n", what, S_MED, S_MIN, S_MAX, n
}

function print_kind(kind,    i, var, n, r, v, base, dline) {
	print_direct(kind, "direct", "")
	print_direct(kind, "direct6", " (IPv6)")
	printf "%-17s %9s %17s %8s %9s %21s\n", "variant", "path", "router ns/pkt", "delta", "Mpkt/s", "rate vs no rule"
	printf "%-17s %9s %17s %8s %9s %21s\n", "", "ns/pkt", "median [spread]", "ns", "(router)", "median [min..max]"
	for (i = 1; i <= nvars[kind]; i++) {
		var = varlist[kind, i]
		base = base_of(var)
		n = 0
		for (r = 1; r <= maxrep; r++)
			if ((kind, var, r) in cost)
				v[++n] = path[kind, var, r]
		stats(v, n); pathmed = S_MED
		n = 0
		for (r = 1; r <= maxrep; r++)
			if ((kind, var, r) in cost)
				v[++n] = cost[kind, var, r]
		stats(v, n); cmed = S_MED; cspread = S_MAX - S_MIN
		dline = "-"
		if (var != base && delta_stats(kind, var, base))
			dline = sprintf("%+.0f", S_MED)
		if (rate_ratio(kind, var, base))
			rr = sprintf("%.3f [%.3f..%.3f]", S_MED, S_MIN, S_MAX)
		printf "%-17s %9.0f %10.0f [%4.0f] %8s %9.3f %21s\n", var, pathmed, cmed, cspread, dline,
			1000 / cmed, rr
	}
	printf "(ns = instructions: -icount shift=0; they under-weight copies and cache misses.\n"
	printf " router = path - direct, same repetition.\n"
	printf " Baseline: \"none\" for the plain router, \"tun-none\" for the tunnel router, PATH-none for\n"
	printf " the 4-tunnel gateway's paths; IPv6 paths less the IPv6 direct path.  [spread] = max-min.)\n"
	for (i = 1; i <= nvars[kind]; i++)
		if ((varlist[kind, i]) in rules && !((varlist[kind, i], "shown") in shown)) {
			shown[varlist[kind, i], "shown"] = 1
			printf "  %-17s %s\n", varlist[kind, i], rule_of(varlist[kind, i])
		}
}

function goal(kind, num, den, want, what,    n) {
	n = rate_ratio(kind, num, den)
	if (!n)
		return
	printf "%-46s %.3f [%.3f..%.3f]  goal >= %.2f: %s\n", what, S_MED, S_MIN, S_MAX, want,
		(S_MED >= want) ? "met" : "NOT met"
	if (delta_stats(kind, num, den))
		printf "%-46s %+.0f ns (instructions) per SYN [%+.0f..%+.0f]\n", "  cost difference", S_MED, S_MIN, S_MAX
}

function ackgoal(var, base,    n, d) {
	if (!delta_stats("ack", var, base))
		return
	d = sprintf("%+.0f ns/pkt [%+.0f..%+.0f]", S_MED, S_MIN, S_MAX)
	rate_ratio("ack", var, base)
	printf "non-SYN: %-13s vs %-10s %-28s rate %.4f [%.4f..%.4f]\n", var, base, d, S_MED, S_MIN, S_MAX
}

function evidence(    k, n, r, v, var, i) {
	printf "\n== Is the router the bottleneck? ==\n"
	printf "One vCPU runs generator, router and sink; trafgen's sendto() returns after the packet has\n"
	printf "been forwarded and dropped (softirq on the same CPU), so the path time is the sum of the three\n"
	printf "and the router's part is path - direct of the same repetition.\n"
	for (k in meas) {
		printf "%s: %d runs; CPU busy %.1f%% of the ticks around each trafgen run (start-up included);\n",
			k, meas[k], 100 * busy[k] / (busy[k] + idle[k])
		printf "     idle 10-ms ticks per run: %.2f in the %.0f-ms runs, %.2f in the %.0f-ms runs (idle does not\n",
			idle_c[k, "short"] / runs_c[k, "short"], loop_c[k, "short"] / runs_c[k, "short"],
			idle_c[k, "long"] / runs_c[k, "long"], loop_c[k, "long"] / runs_c[k, "long"]
		printf "     grow with the send loop: it is trafgen's start-up and exit, outside the timed loop)\n"
		printf "     backlog drops %d; runs where the sink did not get every packet: %d\n", drops[k], lost[k] + 0
		n = 0
		for (i = 1; i <= nvars[k]; i++) {
			var = varlist[k, i]
			for (r = 1; r <= maxrep; r++)
				if ((k, var, r) in cost)
					v[++n] = cost[k, var, r] / path[k, var, r]
		}
		stats(v, n)
		printf "     router share of the per-packet time %.0f%%..%.0f%%\n", 100 * S_MIN, 100 * S_MAX
	}
	# Reproducibility: the spread of the direct path.
	for (k in meas) {
		n = 0
		for (r = 1; r <= maxrep; r++)
			if ((k, "direct", r) in direct)
				v[++n] = direct[k, "direct", r]
		stats(v, n)
		printf "%s: direct path spread over repetitions %.3f%% (idle time would add host-speed noise)\n",
			k, 100 * (S_MAX - S_MIN) / S_MED
	}
}

function print_goodput(    i, var, r, n, v, t, base, rr) {
	printf "\n== Goodput through the ESP tunnel (%s) ==\n", conf_gp
	printf "%-6s %5s %20s %8s %15s %10s %9s %6s %20s\n", "clamp", "MSS", "time ms", "Mbit/s", "payload/wire B", "both dirs",
		"WAN pkts", "frags", "goodput vs none"
	base = "none"
	for (i = 1; i <= ngvars; i++) {
		var = gvars[i]
		n = 0
		for (r = 1; r <= gmaxrep; r++) if ((var, r) in gtime) v[++n] = gtime[var, r]
		stats(v, n); t = sprintf("%.1f [%.1f..%.1f]", S_MED, S_MIN, S_MAX)
		n = 0
		for (r = 1; r <= gmaxrep; r++) if ((var, r) in gput) v[++n] = gput[var, r]
		stats(v, n); gp = S_MED
		n = 0
		for (r = 1; r <= gmaxrep; r++) if ((var, r) in geff) v[++n] = geff[var, r]
		stats(v, n); e1 = S_MED
		n = 0
		for (r = 1; r <= gmaxrep; r++) if ((var, r) in geff2) v[++n] = geff2[var, r]
		stats(v, n); e2 = S_MED
		n = 0
		for (r = 1; r <= gmaxrep; r++) if ((var, r) in gpkts) v[++n] = gpkts[var, r]
		stats(v, n); pk = S_MED
		n = 0
		for (r = 1; r <= gmaxrep; r++) if ((var, r) in gfrags) v[++n] = gfrags[var, r]
		stats(v, n); fr = S_MED
		n = 0
		for (r = 1; r <= gmaxrep; r++)
			if ((var, r) in gput && (base, r) in gput)
				v[++n] = gput[var, r] / gput[base, r]
		rr = "-"
		if (n) {
			stats(v, n)
			rr = sprintf("%.3f [%.3f..%.3f]", S_MED, S_MIN, S_MAX)
		}
		printf "%-6s %5s %20s %8.2f %15.4f %10.4f %9d %6d %20s\n", var, gmss[var], t, gp, e1, e2, pk, fr, rr
	}
	printf "(MSS: h1's socket, less the timestamp option.  payload/wire: payload bytes per IP byte ra sent\n"
	printf " on the WAN; both dirs: with the ACKs.  time: guest clock, the WAN paced by netem.)\n"
}

function print_profile(    i, own) {
	printf "\n== Where the instructions go (function_graph, one function traced at a time, median) ==\n"
	printf "tracer cost per traced call (calibrated on ipsecmss_mss_for_mtu, about 10 instructions) = %d, subtracted\n", calib
	printf "%-4s %-16s %-32s %7s %9s %9s\n", "kind", "variant", "function", "calls", "insns", "mean"
	for (i = 1; i <= np; i++) {
		if (pcalls[i] == 0) {
			printf "%-4s %-16s %-32s %7s %9s\n", pkind[i], pvar[i], pfn[i], "-", "(not traceable or not called)"
			continue
		}
		own = pmed[i] - calib
		printf "%-4s %-16s %-32s %7d %9d %9d\n", pkind[i], pvar[i], pfn[i], pcalls[i], own, pmean[i] - calib
	}
	printf "(insns: the median, inclusive of the callees; mean: the mean, for functions called twice\n"
	printf " per packet (2x calls) in two different ways.  Lookups the kernel also makes outside the\n"
	printf " rule are counted below the rule's target only.)\n"
}

function print_micro(    i, l) {
	printf "\n== Core micro-benchmark: instructions per SYN under callgrind (userspace -O2) ==\n"
	printf "%-8s %4s %6s %8s %7s %9s %17s\n", "layout", "hdr", "walk", "rewrite", "insert", "TCPMSS*", "rewrite/TCPMSS*"
	for (i = 1; i <= nmlays; i++) {
		l = mlays[i]
		printf "%-8s %4s %6.0f %8.0f %7.0f %9.0f %17.2f\n", l, mhdr[l], micro[l, "walk"], micro[l, "rewrite"],
			micro[l, "insert"], micro[l, "tcpmss"], micro[l, "rewrite"] / micro[l, "tcpmss"]
	}
	printf "(walk: ipsecmss_find_mss; rewrite: ipsecmss_clamp 1460->1344; insert: ipsecmss_clamp on the\n"
	printf " layout without MSS; TCPMSS*: xt_TCPMSS's option loop + csum_replace2, transcribed, the baseline.)\n"
}

function print_bulk(    i, j, m, var, r, n, v, t, rr, noise) {
	printf "\n== Bulk TCP through a rule without a SYN match (%s) ==\n", conf_bulk
	for (i = 1; i <= nbmodes; i++) {
		m = bmodes[i]
		what = "TSO/GSO/GRO off (the rule sees every 1448-byte segment and every ACK)"
		if (m == "gso")
			what = "default offloads (the rule sees GSO super-packets, as after a NIC's GRO)"
		printf "mode %s: %s\n", m, what
		printf "%-14s %24s %9s %26s\n", "variant", "time ms median [range]", "Mbit/s", "throughput vs none [range]"
		n = 0
		for (r = 1; r <= bmaxrep; r++) if ((m, "none", r) in btime) v[++n] = btime[m, "none", r]
		if (n) { stats(v, n); noise = 100 * (S_MAX - S_MIN) / S_MED }
		for (j = 1; j <= nbvars; j++) {
			var = bvars[j]
			n = 0
			for (r = 1; r <= bmaxrep; r++) if ((m, var, r) in btime) v[++n] = btime[m, var, r]
			if (!n)
				continue
			stats(v, n)
			t = sprintf("%.1f [%.1f..%.1f]", S_MED, S_MIN, S_MAX)
			mb = bbytes * 8 / (S_MED / 1e3) / 1e6
			n = 0
			for (r = 1; r <= bmaxrep; r++)
				if ((m, var, r) in btime && (m, "none", r) in btime)
					v[++n] = btime[m, "none", r] / btime[m, var, r]
			stats(v, n)
			rr = sprintf("%.4f [%.4f..%.4f]", S_MED, S_MIN, S_MAX)
			printf "%-14s %24s %9.1f %26s\n", var, t, mb, rr
		}
		printf "(run-to-run range of \"none\" itself: %.2f %% of its median; CPU busy %.1f %% of the\n", noise,
			bbusy[m] + bidle[m] ? 100 * bbusy[m] / (bbusy[m] + bidle[m]) : 0
		printf " 10-ms ticks of the timed runs, socat start-up included)\n"
	}
	for (j = 1; j <= nbvars; j++)
		printf "  %-14s %s\n", bvars[j], bulkrule[bvars[j]]
}
