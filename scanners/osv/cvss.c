/*
 * cvss.c - CVSS v3.x and v4.0 base scores (see cvss.h).
 *
 * The v4.0 MacroVector scores, the highest-severity vectors of each equivalence class and
 * their maximal severity distances are data of the CVSS v4.0 specification (FIRST, "CVSS
 * v4.0 Specification Document", section 8, and the lookup data published with FIRST's
 * reference calculator, BSD-2-Clause). The code around them is ours.
 */
#include "cvss.h"

#include "util.h"

#include <math.h>

#include "banned.h"

/* A metric of a vector: its name and the letters it may take (in order of severity). */
struct metric_def {
	const char *name;
	const char *values;
	bool base;
};

/* Parse "CVSS:x.y/M:V/..." against defs; vals[i] receives the letter of defs[i] (or 0). */
static int parse_vector(const char *vector, const char *prefix, const struct metric_def *defs,
			size_t n_defs, char *vals)
{
	size_t plen = strlen(prefix);
	if (!vector || strncmp(vector, prefix, plen) != 0) {
		return -EINVAL;
	}
	memset(vals, 0, n_defs);
	const char *p = vector + plen;
	while (*p) {
		if (*p != '/') {
			return -EINVAL;
		}
		p++;
		const char *colon = strchr(p, ':');
		if (!colon) {
			return -EINVAL;
		}
		size_t nlen = (size_t)(colon - p);
		const char *v = colon + 1;
		size_t vlen = strcspn(v, "/");
		size_t k;
		for (k = 0; k < n_defs; k++) {
			if (strlen(defs[k].name) == nlen && memcmp(defs[k].name, p, nlen) == 0) {
				break;
			}
		}
		if (k == n_defs || vlen != 1 || vals[k] || !strchr(defs[k].values, v[0])) {
			return -EINVAL;
		}
		vals[k] = v[0];
		p = v + vlen;
	}
	for (size_t k = 0; k < n_defs; k++) {
		if (defs[k].base && !vals[k]) {
			return -EINVAL;
		}
	}
	return 0;
}

/* ---------- v3.x ---------- */

enum { V3_AV, V3_AC, V3_PR, V3_UI, V3_S, V3_C, V3_I, V3_A, V3_COUNT = 22 };

static const struct metric_def v3_defs[] = {
	{ "AV", "NALP", true },	  { "AC", "LH", true },	    { "PR", "NLH", true },
	{ "UI", "NR", true },	  { "S", "UC", true },	    { "C", "HLN", true },
	{ "I", "HLN", true },	  { "A", "HLN", true },	    { "E", "XHFPU", false },
	{ "RL", "XUWTO", false }, { "RC", "XCRU", false },  { "CR", "XHML", false },
	{ "IR", "XHML", false },  { "AR", "XHML", false },  { "MAV", "XNALP", false },
	{ "MAC", "XLH", false },  { "MPR", "XNLH", false }, { "MUI", "XNR", false },
	{ "MS", "XUC", false },	  { "MC", "XHLN", false },  { "MI", "XHLN", false },
	{ "MA", "XHLN", false },
};

/* v3.1 Roundup: the smallest one-decimal number >= x, robust to binary fractions. */
static double roundup31(double x)
{
	long long i = llround(x * 100000.0);
	if (i % 10000 == 0) {
		return (double)i / 100000.0;
	}
	return (double)(i / 10000 + 1) / 10.0;
}

static double roundup30(double x)
{
	return ceil(x * 10.0 - 1e-9) / 10.0;
}

static double cia_weight(char c)
{
	return c == 'H' ? 0.56 : c == 'L' ? 0.22 : 0.0;
}

int cvss3_base_score(const char *vector, double *score)
{
	char v[V3_COUNT];
	bool v31;
	if (vector && strncmp(vector, "CVSS:3.1/", 9) == 0) {
		v31 = true;
	} else if (vector && strncmp(vector, "CVSS:3.0/", 9) == 0) {
		v31 = false;
	} else {
		return -EINVAL;
	}
	/* The version was checked above; the metrics start at the '/' after it. */
	if (parse_vector(vector + 8, "", v3_defs, ARRAY_SIZE(v3_defs), v) < 0) {
		return -EINVAL;
	}
	bool changed = v[V3_S] == 'C';
	double av = v[V3_AV] == 'N' ? 0.85 : v[V3_AV] == 'A' ? 0.62 : v[V3_AV] == 'L' ? 0.55 : 0.2;
	double ac = v[V3_AC] == 'L' ? 0.77 : 0.44;
	double pr = v[V3_PR] == 'N'   ? 0.85
		    : v[V3_PR] == 'L' ? (changed ? 0.68 : 0.62)
				      : (changed ? 0.5 : 0.27);
	double ui = v[V3_UI] == 'N' ? 0.85 : 0.62;
	double iss = 1.0 - (1.0 - cia_weight(v[V3_C])) * (1.0 - cia_weight(v[V3_I])) *
				   (1.0 - cia_weight(v[V3_A]));
	double impact = changed ? 7.52 * (iss - 0.029) - 3.25 * pow(iss - 0.02, 15) : 6.42 * iss;
	double expl = 8.22 * av * ac * pr * ui;
	double (*roundup)(double) = v31 ? roundup31 : roundup30;
	if (impact <= 0) {
		*score = 0.0;
	} else if (changed) {
		*score = roundup(MIN(1.08 * (impact + expl), 10.0));
	} else {
		*score = roundup(MIN(impact + expl, 10.0));
	}
	return 0;
}

/* ---------- v4.0 ---------- */

enum {
	V4_AV,
	V4_AC,
	V4_AT,
	V4_PR,
	V4_UI,
	V4_VC,
	V4_VI,
	V4_VA,
	V4_SC,
	V4_SI,
	V4_SA,
	V4_E,
	V4_CR,
	V4_IR,
	V4_AR,
	V4_MAV,
	V4_MAC,
	V4_MAT,
	V4_MPR,
	V4_MUI,
	V4_MVC,
	V4_MVI,
	V4_MVA,
	V4_MSC,
	V4_MSI,
	V4_MSA,
	V4_S,
	V4_AU,
	V4_R,
	V4_V,
	V4_RE,
	V4_U,
	V4_COUNT
};

static const struct metric_def v4_defs[V4_COUNT] = {
	[V4_AV] = { "AV", "NALP", true },     [V4_AC] = { "AC", "LH", true },
	[V4_AT] = { "AT", "NP", true },	      [V4_PR] = { "PR", "NLH", true },
	[V4_UI] = { "UI", "NPA", true },      [V4_VC] = { "VC", "HLN", true },
	[V4_VI] = { "VI", "HLN", true },      [V4_VA] = { "VA", "HLN", true },
	[V4_SC] = { "SC", "HLN", true },      [V4_SI] = { "SI", "HLN", true },
	[V4_SA] = { "SA", "HLN", true },      [V4_E] = { "E", "XAPU", false },
	[V4_CR] = { "CR", "XHML", false },    [V4_IR] = { "IR", "XHML", false },
	[V4_AR] = { "AR", "XHML", false },    [V4_MAV] = { "MAV", "XNALP", false },
	[V4_MAC] = { "MAC", "XLH", false },   [V4_MAT] = { "MAT", "XNP", false },
	[V4_MPR] = { "MPR", "XNLH", false },  [V4_MUI] = { "MUI", "XNPA", false },
	[V4_MVC] = { "MVC", "XHLN", false },  [V4_MVI] = { "MVI", "XHLN", false },
	[V4_MVA] = { "MVA", "XHLN", false },  [V4_MSC] = { "MSC", "XHLN", false },
	[V4_MSI] = { "MSI", "XSHLN", false }, [V4_MSA] = { "MSA", "XSHLN", false },
	[V4_S] = { "S", "XNP", false },	      [V4_AU] = { "AU", "XNY", false },
	[V4_R] = { "R", "XAUI", false },      [V4_V] = { "V", "XDC", false },
	[V4_RE] = { "RE", "XLMH", false },    [V4_U] = { "U", "XCGAR", false },
};

/*
 * MacroVector scores in tenths, indexed eq1*108 + eq2*54 + eq3*18 + eq4*6 + eq5*2 + eq6;
 * -1 where the specification defines no MacroVector (EQ3 = 2 with EQ6 = 0).
 */
static const signed char macro_score[324] = {
	100, 99, 98, 95, 95, 92, 100, 96, 93, 87, 91, 81, 93, 90, 89, 80, 81, 68, 98, 95, 95, 92,
	90,  84, 93, 92, 89, 81, 81,  65, 88, 80, 78, 70, 69, 48, -1, 92, -1, 82, -1, 72, -1, 79,
	-1,  69, -1, 50, -1, 69, -1,  55, -1, 27, 99, 97, 95, 92, 92, 85, 95, 91, 90, 83, 84, 71,
	92,  81, 82, 71, 72, 53, 95,  93, 92, 85, 85, 73, 92, 82, 80, 72, 70, 59, 84, 70, 71, 52,
	50,  30, -1, 86, -1, 75, -1,  52, -1, 71, -1, 52, -1, 29, -1, 63, -1, 29, -1, 17, 98, 95,
	94,  87, 91, 81, 94, 89, 86,  74, 77, 64, 87, 75, 74, 63, 63, 49, 94, 89, 88, 77, 76, 67,
	86,  76, 74, 58, 59, 50, 72,  57, 57, 52, 52, 25, -1, 83, -1, 70, -1, 54, -1, 65, -1, 58,
	-1,  26, -1, 53, -1, 21, -1,  13, 95, 90, 88, 76, 76, 70, 90, 77, 75, 62, 61, 53, 77, 66,
	68,  59, 52, 30, 89, 78, 76,  67, 62, 58, 74, 59, 57, 57, 47, 23, 61, 52, 57, 29, 24, 16,
	-1,  71, -1, 59, -1, 30, -1,  58, -1, 26, -1, 15, -1, 23, -1, 13, -1, 6,  93, 87, 86, 72,
	75,  58, 86, 74, 74, 61, 56,  34, 70, 54, 52, 40, 40, 22, 85, 75, 74, 55, 62, 51, 72, 57,
	55,  41, 46, 19, 53, 36, 34,  19, 19, 8,  -1, 64, -1, 51, -1, 20, -1, 47, -1, 21, -1, 11,
	-1,  24, -1, 9,	 -1, 4,	 88,  75, 73, 53, 60, 50, 73, 55, 59, 40, 41, 20, 54, 43, 45, 22,
	20,  11, 75, 55, 58, 45, 40,  21, 61, 51, 48, 18, 20, 9,  46, 18, 17, 7,  8,  2,  -1, 53,
	-1,  24, -1, 14, -1, 24, -1,  12, -1, 5,  -1, 10, -1, 3,  -1, 1,
};

static int macro_lookup(const int eq[6])
{
	if (eq[0] > 2 || eq[1] > 1 || eq[2] > 2 || eq[3] > 2 || eq[4] > 2 || eq[5] > 1) {
		return -1;
	}
	return macro_score[eq[0] * 108 + eq[1] * 54 + eq[2] * 18 + eq[3] * 6 + eq[4] * 2 + eq[5]];
}

/* The metrics that scoring uses, after environmental overrides and defaults. */
struct v4eff {
	char av, ac, at, pr, ui, vc, vi, va, sc, si, sa, e, cr, ir, ar;
};

static char eff(const char *v, int base, int modified)
{
	return v[modified] && v[modified] != 'X' ? v[modified] : v[base];
}

/* Severity "levels" of metric values, in tenths, as the specification assigns them. */
static int level(char metric, char value)
{
	switch (metric) {
	case 'V': /* AV */
		return value == 'N' ? 0 : value == 'A' ? 1 : value == 'L' ? 2 : 3;
	case 'P': /* PR */
		return value == 'N' ? 0 : value == 'L' ? 1 : 2;
	case 'U': /* UI */
		return value == 'N' ? 0 : value == 'P' ? 1 : 2;
	case 'C': /* AC */
		return value == 'L' ? 0 : 1;
	case 'T': /* AT */
		return value == 'N' ? 0 : 1;
	case 'I': /* VC, VI, VA */
		return value == 'H' ? 0 : value == 'L' ? 1 : 2;
	case 'S': /* SC */
		return value == 'H' ? 1 : value == 'L' ? 2 : 3;
	case 'Z': /* SI, SA */
		return value == 'S' ? 0 : value == 'H' ? 1 : value == 'L' ? 2 : 3;
	case 'R': /* CR, IR, AR */
		return value == 'H' ? 0 : value == 'M' ? 1 : 2;
	default:
		return 0;
	}
}

/* The highest-severity vectors of each class ("max composed"), as metric:value lists. */
static const char *const max_eq1[3][3] = {
	{ "AV:N/PR:N/UI:N" },
	{ "AV:A/PR:N/UI:N", "AV:N/PR:L/UI:N", "AV:N/PR:N/UI:P" },
	{ "AV:P/PR:N/UI:N", "AV:A/PR:L/UI:P" },
};
static const char *const max_eq2[2][2] = {
	{ "AC:L/AT:N" },
	{ "AC:H/AT:N", "AC:L/AT:P" },
};
/* [eq3][eq6] */
static const char *const max_eq3eq6[3][2][5] = {
	{ { "VC:H/VI:H/VA:H/CR:H/IR:H/AR:H" },
	  { "VC:H/VI:H/VA:L/CR:M/IR:M/AR:H", "VC:H/VI:H/VA:H/CR:M/IR:M/AR:M" } },
	{ { "VC:L/VI:H/VA:H/CR:H/IR:H/AR:H", "VC:H/VI:L/VA:H/CR:H/IR:H/AR:H" },
	  { "VC:L/VI:H/VA:L/CR:H/IR:M/AR:H", "VC:L/VI:H/VA:H/CR:H/IR:M/AR:M",
	    "VC:H/VI:L/VA:H/CR:M/IR:H/AR:M", "VC:H/VI:L/VA:L/CR:M/IR:H/AR:H",
	    "VC:L/VI:L/VA:H/CR:H/IR:H/AR:M" } },
	{ { NULL }, { "VC:L/VI:L/VA:L/CR:H/IR:H/AR:H" } },
};
static const char *const max_eq4[3] = { "SC:H/SI:S/SA:S", "SC:H/SI:H/SA:H", "SC:L/SI:L/SA:L" };

/* Maximal severity distances within a class, in tenths. */
static const int maxsev_eq1[3] = { 1, 4, 5 };
static const int maxsev_eq2[2] = { 1, 2 };
static const int maxsev_eq3eq6[3][2] = { { 7, 6 }, { 8, 8 }, { 0, 10 } };
static const int maxsev_eq4[3] = { 6, 5, 4 };

/* Value of metric `name` in a "M:V/M:V" list, or 0. */
static char max_value(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; p && *p;) {
		if (strncmp(p, name, n) == 0 && p[n] == ':') {
			return p[n + 1];
		}
		p = strchr(p, '/');
		p = p ? p + 1 : NULL;
	}
	return 0;
}

/* Severity distances of e from one max vector (composed of the four lists). */
static bool distances(const struct v4eff *e, const char *l1, const char *l2, const char *l36,
		      const char *l4, int d[4])
{
	struct {
		char kind;
		char val;
		const char *list;
		const char *name;
		int group;
	} m[] = {
		{ 'V', e->av, l1, "AV", 0 },  { 'P', e->pr, l1, "PR", 0 },
		{ 'U', e->ui, l1, "UI", 0 },  { 'C', e->ac, l2, "AC", 1 },
		{ 'T', e->at, l2, "AT", 1 },  { 'I', e->vc, l36, "VC", 2 },
		{ 'I', e->vi, l36, "VI", 2 }, { 'I', e->va, l36, "VA", 2 },
		{ 'R', e->cr, l36, "CR", 2 }, { 'R', e->ir, l36, "IR", 2 },
		{ 'R', e->ar, l36, "AR", 2 }, { 'S', e->sc, l4, "SC", 3 },
		{ 'Z', e->si, l4, "SI", 3 },  { 'Z', e->sa, l4, "SA", 3 },
	};
	memset(d, 0, 4 * sizeof(int));
	for (size_t i = 0; i < ARRAY_SIZE(m); i++) {
		char mv = max_value(m[i].list, m[i].name);
		int dist = level(m[i].kind, m[i].val) - level(m[i].kind, mv);
		if (dist < 0) {
			return false;
		}
		d[m[i].group] += dist;
	}
	return true;
}

int cvss4_base_score(const char *vector, double *score)
{
	char v[V4_COUNT];
	if (parse_vector(vector, "CVSS:4.0", v4_defs, V4_COUNT, v) < 0) {
		return -EINVAL;
	}
	struct v4eff e = {
		.av = eff(v, V4_AV, V4_MAV),
		.ac = eff(v, V4_AC, V4_MAC),
		.at = eff(v, V4_AT, V4_MAT),
		.pr = eff(v, V4_PR, V4_MPR),
		.ui = eff(v, V4_UI, V4_MUI),
		.vc = eff(v, V4_VC, V4_MVC),
		.vi = eff(v, V4_VI, V4_MVI),
		.va = eff(v, V4_VA, V4_MVA),
		.sc = eff(v, V4_SC, V4_MSC),
		.si = eff(v, V4_SI, V4_MSI),
		.sa = eff(v, V4_SA, V4_MSA),
		.e = v[V4_E] && v[V4_E] != 'X' ? v[V4_E] : 'A',
		.cr = v[V4_CR] && v[V4_CR] != 'X' ? v[V4_CR] : 'H',
		.ir = v[V4_IR] && v[V4_IR] != 'X' ? v[V4_IR] : 'H',
		.ar = v[V4_AR] && v[V4_AR] != 'X' ? v[V4_AR] : 'H',
	};
	if (e.vc == 'N' && e.vi == 'N' && e.va == 'N' && e.sc == 'N' && e.si == 'N' &&
	    e.sa == 'N') {
		*score = 0.0;
		return 0;
	}
	int eq[6];
	if (e.av == 'N' && e.pr == 'N' && e.ui == 'N') {
		eq[0] = 0;
	} else if ((e.av == 'N' || e.pr == 'N' || e.ui == 'N') && e.av != 'P') {
		eq[0] = 1;
	} else {
		eq[0] = 2;
	}
	eq[1] = e.ac == 'L' && e.at == 'N' ? 0 : 1;
	if (e.vc == 'H' && e.vi == 'H') {
		eq[2] = 0;
	} else if (e.vc == 'H' || e.vi == 'H' || e.va == 'H') {
		eq[2] = 1;
	} else {
		eq[2] = 2;
	}
	if (e.si == 'S' || e.sa == 'S') {
		eq[3] = 0;
	} else if (e.sc == 'H' || e.si == 'H' || e.sa == 'H') {
		eq[3] = 1;
	} else {
		eq[3] = 2;
	}
	eq[4] = e.e == 'A' ? 0 : e.e == 'P' ? 1 : 2;
	eq[5] = (e.cr == 'H' && e.vc == 'H') || (e.ir == 'H' && e.vi == 'H') ||
				(e.ar == 'H' && e.va == 'H')
			? 0
			: 1;

	int value = macro_lookup(eq);
	if (value < 0) {
		return -EINVAL;
	}
	/* Scores of the next lower MacroVectors (-1 when there is none). */
	int lower[5];
	for (int k = 0; k < 5; k++) {
		int q[6];
		memcpy(q, eq, sizeof(q));
		if (k < 2) {
			q[k]++;
			lower[k] = macro_lookup(q);
		} else if (k == 2) {
			/* EQ3 and EQ6 move together. */
			if (eq[2] == 0 && eq[5] == 0) {
				int l[6], r[6];
				memcpy(l, eq, sizeof(l));
				memcpy(r, eq, sizeof(r));
				l[5]++;
				r[2]++;
				int sl = macro_lookup(l), sr = macro_lookup(r);
				lower[k] = sl > sr ? sl : sr;
			} else if (eq[2] == 1 && eq[5] == 0) {
				q[5]++;
				lower[k] = macro_lookup(q);
			} else {
				q[2]++;
				lower[k] = macro_lookup(q);
			}
		} else {
			q[k]++;
			lower[k] = macro_lookup(q);
		}
	}
	/* The first max vector of this MacroVector that e does not exceed. */
	int d[4] = { 0 };
	bool found = false;
	for (int a = 0; a < 3 && !found && max_eq1[eq[0]][a]; a++) {
		for (int b = 0; b < 2 && !found && max_eq2[eq[1]][b]; b++) {
			for (int c = 0; c < 5 && !found && max_eq3eq6[eq[2]][eq[5]][c]; c++) {
				found = distances(&e, max_eq1[eq[0]][a], max_eq2[eq[1]][b],
						  max_eq3eq6[eq[2]][eq[5]][c], max_eq4[eq[3]], d);
			}
		}
	}
	if (!found) {
		return -EINVAL;
	}
	int maxsev[5] = { maxsev_eq1[eq[0]], maxsev_eq2[eq[1]], maxsev_eq3eq6[eq[2]][eq[5]],
			  maxsev_eq4[eq[3]], 0 };
	int cur[5] = { d[0], d[1], d[2], d[3], 0 };
	double sum = 0;
	int n = 0;
	for (int k = 0; k < 5; k++) {
		if (lower[k] < 0) {
			continue;
		}
		n++;
		if (maxsev[k] > 0) {
			double available = (value - lower[k]) / 10.0;
			sum += available * ((double)cur[k] / (double)maxsev[k]);
		}
	}
	double s = value / 10.0 - (n ? sum / n : 0.0);
	s = s < 0 ? 0 : s > 10 ? 10 : s;
	*score = floor(s * 10.0 + 0.5 + 1e-9) / 10.0;
	return 0;
}

int cvss_base_score(const char *vector, double *score)
{
	if (vector && strncmp(vector, "CVSS:4.0/", 9) == 0) {
		return cvss4_base_score(vector, score);
	}
	return cvss3_base_score(vector, score);
}

enum severity cvss_severity(double score)
{
	if (score >= 9.0) {
		return SEVERITY_CRITICAL;
	}
	if (score >= 7.0) {
		return SEVERITY_HIGH;
	}
	if (score >= 4.0) {
		return SEVERITY_MEDIUM;
	}
	return score > 0.0 ? SEVERITY_LOW : SEVERITY_INFO;
}
