# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# The one result format of every ipsecmss test suite: KTAP version 1
# (Documentation/dev-tools/ktap.rst), with the helper names of the kernel's
# tools/testing/selftests/kselftest/ktap_helpers.sh.  POSIX sh, so that the
# guest's busybox /init sources it as well as the bash tests:
#
#	. tests/lib/ktap.sh
#	ktap_print_header                   KTAP version 1
#	ktap_set_plan 2                     1..2       (optional, see below)
#	ktap_test_pass "parses"             ok 1 parses
#	ktap_test_fail "saves"              not ok 2 saves
#	ktap_test_skip "inserts" "no module" ok 3 inserts # SKIP no module
#	ktap_print_msg "anything"           # anything
#	ktap_finished                       (plan,) totals, exit 0, 1 or 4
#
# The plan: a suite that knows its number of tests up front prints it
# after the header; the others print it at the end (ktap_finished), as TAP
# 13 allows and KTAP tolerates ("the plan may be omitted" up front).
#
# Nesting is KTAP's: a test made of subtests prints its subtests' whole
# KTAP document indented by two spaces, then its own result line.  Output
# of this file is prefixed with $KTAP_INDENT: the guest's /init sets it to
# two spaces for each test script it runs (so a script's checks sit under
# the script's result line without a pipe that a left-over background
# process could hold open); tests/check.sh indents each host suite with sed.
# Lines a test prints by itself (echo "# ...") stay where they are: KTAP
# counts anything that is not a version, plan or result line as a
# diagnostic or unknown line, whatever its indentation.
#
# Descriptions cannot contain "#" (it starts the directive): a "#" in one is
# printed as "No.".
#
# Shared numbering: when KTAP_STATE names a file, the counters are kept in
# it too, so a helper process of the same test (a re-exec of the script
# inside a namespace) continues the numbering instead of starting a second
# document.  tests/vm/lib.sh sets it up.
#
# Counting: ktap_count FILE... prints "PASSED FAILED SKIPPED" for a log
# holding KTAP output (with any other lines around it).  What counts is
# the leaves: a result line with no subtests counts as what it says; a
# result line with subtests counts through them, plus one failure of its
# own when it is "not ok" although none of its subtests failed (a script
# that crashed after its last check, a timeout, a VM that died).  A
# document whose plan does not match its number of results counts one
# failure (a run cut short), "1..0 # SKIP why" counts one skip.

KTAP_TESTNO=0
KTAP_CNT_PASS=0
KTAP_CNT_FAIL=0
KTAP_CNT_SKIP=0
KTAP_PLAN=
KTAP_INDENT=${KTAP_INDENT:-}
KTAP_STATE=${KTAP_STATE:-}

# kselftest's exit codes.
KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

ktap_print_header() {
	echo "${KTAP_INDENT}KTAP version 1"
}

# ktap_set_plan N: the number of results this document will have.
ktap_set_plan() {
	KTAP_PLAN=$1
	echo "${KTAP_INDENT}1..$1"
}

# ktap_skip_all REASON: nothing could be tested (plan 1..0), exit 4.
ktap_skip_all() {
	echo "${KTAP_INDENT}1..0 # SKIP $*"
	exit "$KSFT_SKIP"
}

ktap_print_msg() {
	echo "${KTAP_INDENT}# $*"
}

# ktap_print_lines [PREFIX]: every line of stdin as a diagnostic line.
ktap_print_lines() {
	while IFS= read -r _ktap_l || [ -n "$_ktap_l" ]; do
		echo "${KTAP_INDENT}# ${1:-}$_ktap_l"
	done
}

_ktap_load() {
	[ -n "$KTAP_STATE" ] && [ -r "$KTAP_STATE" ] &&
		read -r KTAP_TESTNO KTAP_CNT_PASS KTAP_CNT_FAIL KTAP_CNT_SKIP <"$KTAP_STATE"
	return 0
}

_ktap_save() {
	[ -n "$KTAP_STATE" ] &&
		echo "$KTAP_TESTNO $KTAP_CNT_PASS $KTAP_CNT_FAIL $KTAP_CNT_SKIP" >"$KTAP_STATE"
	return 0
}

# __ktap_test ok|"not ok" DESCRIPTION [DIRECTIVE]
__ktap_test() {
	_ktap_d=$2
	case $_ktap_d in
	*'#'*) _ktap_d=$(printf '%s' "$_ktap_d" | sed 's/#/No./g') ;;
	esac
	KTAP_TESTNO=$((KTAP_TESTNO + 1))
	if [ -n "${3:-}" ]; then
		echo "$KTAP_INDENT$1 $KTAP_TESTNO $_ktap_d # $3"
	else
		echo "$KTAP_INDENT$1 $KTAP_TESTNO $_ktap_d"
	fi
}

# ktap_test_pass / ktap_test_fail DESCRIPTION [DIAGNOSTIC]: the
# diagnostic data goes after " # " on the result line ("12.3s", "TIMEOUT").
ktap_test_pass() {
	_ktap_load
	__ktap_test ok "$1" "${2:-}"
	KTAP_CNT_PASS=$((KTAP_CNT_PASS + 1))
	_ktap_save
}

ktap_test_fail() {
	_ktap_load
	__ktap_test "not ok" "$1" "${2:-}"
	KTAP_CNT_FAIL=$((KTAP_CNT_FAIL + 1))
	_ktap_save
}

# ktap_test_skip DESCRIPTION [REASON]
ktap_test_skip() {
	_ktap_load
	__ktap_test ok "$1" "SKIP${2:+ $2}"
	KTAP_CNT_SKIP=$((KTAP_CNT_SKIP + 1))
	_ktap_save
}

# ktap_test_result DESCRIPTION CMD...: pass if CMD succeeds.
ktap_test_result() {
	_ktap_desc=$1
	shift
	if "$@"; then
		ktap_test_pass "$_ktap_desc"
	else
		ktap_test_fail "$_ktap_desc"
	fi
}

ktap_print_totals() {
	_ktap_load
	echo "$KTAP_INDENT# Totals: pass:$KTAP_CNT_PASS fail:$KTAP_CNT_FAIL xfail:0 xpass:0 skip:$KTAP_CNT_SKIP error:0"
}

# ktap_exit_code: 1 if a test failed, 4 if all were skipped, else 0.
ktap_exit_code() {
	_ktap_load
	if [ "$KTAP_CNT_FAIL" -gt 0 ]; then
		return "$KSFT_FAIL"
	elif [ "$KTAP_CNT_PASS" -eq 0 ] && [ "$KTAP_CNT_SKIP" -gt 0 ]; then
		return "$KSFT_SKIP"
	fi
	return "$KSFT_PASS"
}

# ktap_finished: the plan (unless printed up front), the totals, and exit
# with ktap_exit_code's status.
ktap_finished() {
	_ktap_load
	[ -n "$KTAP_PLAN" ] || echo "${KTAP_INDENT}1..$KTAP_TESTNO"
	ktap_print_totals
	ktap_exit_code
	exit
}

# ktap_count FILE...: "PASSED FAILED SKIPPED" of the KTAP output in the
# files (see the top of this file).
ktap_count() {
	awk '
	function indent(s) { return match(s, /[^ ]/) - 1 }
	function touch(i) { P[i] += 0; F[i] += 0; S[i] += 0 }
	# close_docs(I): the documents indented deeper than I end here.
	function close_docs(i,   l) {
		for (l in open) {
			if (l + 0 <= i)
				continue
			if (plan[l] != "" && plan[l] != cnt[l]) {
				touch(l)
				if (plan[l] == 0 && skipall[l] && cnt[l] == 0)
					S[l]++
				else
					F[l]++
			}
			delete open[l]
		}
	}
	{ sub(/\r$/, "") }
	/^ *(KTAP|TAP) version [0-9]+ *$/ {
		i = indent($0)
		close_docs(i - 1)
		open[i] = 1; plan[i] = ""; cnt[i] = 0; skipall[i] = 0
		next
	}
	/^ *1\.\.[0-9]+( |$)/ {
		i = indent($0)
		if ((i in open) && plan[i] == "") {
			t = substr($0, i + 4)
			plan[i] = t + 0
			skipall[i] = ($0 ~ /# *SKIP/)
		}
		next
	}
	/^ *(not )?ok [0-9]+( |$)/ {
		i = indent($0)
		close_docs(i)
		s = substr($0, i + 1)
		bad = (s ~ /^not /)
		sk = (s ~ /# *SKIP( |$)/)
		cp = cf = cs = 0
		for (l in P) {
			if (l + 0 <= i)
				continue
			cp += P[l]; cf += F[l]; cs += S[l]
			delete P[l]; delete F[l]; delete S[l]
		}
		if (i in open)
			cnt[i]++
		touch(i)
		if (cp + cf + cs == 0) {
			if (sk) S[i]++
			else if (bad) F[i]++
			else P[i]++
		} else {
			P[i] += cp; F[i] += cf; S[i] += cs
			if (bad && !sk && cf == 0)
				F[i]++
		}
		next
	}
	END {
		close_docs(-1)
		p = f = s = 0
		for (l in P) p += P[l]
		for (l in F) f += F[l]
		for (l in S) s += S[l]
		print p + 0, f + 0, s + 0
	}' "$@"
}
