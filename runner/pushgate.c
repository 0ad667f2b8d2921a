/*
 * pushgate.c - the security gate in front of push stages (see pushgate.h).
 */
#include "pushgate.h"

#include "diag.h"
#include "pipeline.h"
#include "run.h"
#include "stage.h"
#include "util.h"
#include "ydoc.h"

#include <stdio.h>
#include <strings.h>

#include "banned.h"

const char *const pushgate_required_kinds[] = { "sast", "secrets", "dependency-scan", NULL };

/* Mark every stage that `stage` depends on, directly or not. */
static void upstream(const struct pipeline *p, size_t stage, bool *mark)
{
	size_t *stack = xcalloc(p->n_stages ? p->n_stages : 1, sizeof(size_t));
	size_t top = 0;
	memset(mark, 0, p->n_stages * sizeof(bool));
	stack[top++] = stage;
	while (top > 0) {
		const struct pstage *s = p->stages[stack[--top]];
		for (size_t k = 0; k < s->n_needs; k++) {
			size_t n = s->needs[k];
			if (!mark[n]) {
				mark[n] = true;
				stack[top++] = n;
			}
		}
	}
	free(stack);
}

static const char *credentials_of(const struct pstage *s)
{
	return s->with ? ynode_str(ynode_get(s->with, "credentials")) : NULL;
}

void pushgate_validate(const struct pipeline *p, const struct ynode *const *stage_nodes,
		       struct diag_list *dl)
{
	bool *mark = xcalloc(p->n_stages ? p->n_stages : 1, sizeof(bool));
	for (size_t i = 0; i < p->n_stages; i++) {
		const struct pstage *s = p->stages[i];
		bool push = s->kind && (s->kind->flags & STAGE_KIND_PUSH);
		const struct ynode *node = stage_nodes ? stage_nodes[i] : NULL;
		if (s->ungated && !push) {
			const struct ypair *u = node ? ynode_pair(node, "ungated") : NULL;
			diag_error(dl, p->path, u ? u->key->line : s->pos.line,
				   u ? u->key->col : s->pos.col, "remove it",
				   "`ungated:` only applies to stages that push (container-push); "
				   "stage '%s' does not",
				   s->name);
			continue;
		}
		if (!push) {
			continue;
		}
		/* The credentials of a push stage go to push stages only. Secret names are
		 * not case-sensitive (the secret store's are upper case): neither is this. */
		const char *cred = credentials_of(s);
		for (size_t t = 0; cred && t < p->n_stages; t++) {
			const struct pstage *o = p->stages[t];
			const char *oc = credentials_of(o);
			if (o->kind && (o->kind->flags & STAGE_KIND_PUSH) && oc &&
			    strcasecmp(oc, cred) == 0) {
				continue;
			}
			for (size_t k = 0; k < o->n_secrets; k++) {
				if (strcasecmp(o->secrets[k], cred) != 0) {
					continue;
				}
				const struct ynode *list =
					stage_nodes ? ynode_get(stage_nodes[t], "secrets") : NULL;
				const struct ynode *at =
					list && list->kind == YNODE_SEQ && k < list->seq.n
						? list->seq.v[k]
						: NULL;
				diag_error(
					dl, p->path, at ? at->line : o->pos.line,
					at ? at->col : o->pos.col,
					"give this stage a secret of its own",
					"secret '%s' holds the registry credentials of push stage "
					"'%s'; stage '%s' may not receive it",
					cred, s->name, o->name);
			}
		}
		if (s->ungated) {
			continue;
		}
		upstream(p, i, mark);
		char missing[200];
		size_t n = 0, count = 0;
		missing[0] = '\0';
		for (size_t g = 0; pushgate_required_kinds[g]; g++) {
			bool found = false;
			for (size_t k = 0; k < p->n_stages && !found; k++) {
				found = mark[k] && p->stages[k]->kind &&
					str_eq(p->stages[k]->kind->name,
					       pushgate_required_kinds[g]);
			}
			if (!found) {
				count++;
				n += (size_t)snprintf(missing + n, sizeof(missing) - n, "%s`%s`",
						      n ? ", " : "", pushgate_required_kinds[g]);
			}
		}
		if (count) {
			diag_error(
				dl, p->path, s->pos.line, s->pos.col,
				"add stages that use these kinds to its `needs` (directly or "
				"through other stages), or set `ungated: \"<reason>\"` to push "
				"without them (the reason is printed and recorded in the report)",
				"push stage '%s' is not behind the security gates: it does not "
				"depend on a stage of kind %s",
				s->name, missing);
		}
	}
	free(mark);
}

enum pushgate_verdict pushgate_upstream(const struct pipeline *p, const struct stage_run *stages,
					size_t stage, char *msg, size_t size)
{
	bool *mark = xcalloc(p->n_stages ? p->n_stages : 1, sizeof(bool));
	enum pushgate_verdict v = PUSHGATE_OPEN;
	upstream(p, stage, mark);
	/* File order, so the message is stable; an error outranks a block. */
	for (size_t k = 0; k < p->n_stages; k++) {
		const struct pstage *s = p->stages[k];
		if (!mark[k] || !s->kind || !(s->kind->flags & STAGE_KIND_SECURITY)) {
			continue;
		}
		const struct stage_run *sr = &stages[k];
		if (sr->status == STATUS_PASSED) {
			continue;
		}
		const char *how;
		switch (sr->status) {
		case STATUS_FAILED:
			how = sr->allowed_failure ? "failed (allow-failure does not open the gate)"
						  : "failed";
			break;
		case STATUS_BLOCKED:
			how = "blocked";
			break;
		case STATUS_ERROR:
			how = "ended in an error";
			break;
		case STATUS_SKIPPED:
			how = "was skipped";
			break;
		case STATUS_CANCELLED:
			how = "was cancelled";
			break;
		default:
			how = "has not passed";
			break;
		}
		enum pushgate_verdict here =
			sr->status == STATUS_ERROR ? PUSHGATE_ERROR : PUSHGATE_BLOCKED;
		if (v == PUSHGATE_OPEN || (here == PUSHGATE_ERROR && v != PUSHGATE_ERROR)) {
			snprintf(msg, size,
				 "not pushed: security stage '%s' (%s) %s; a push needs every "
				 "security stage before it to pass",
				 s->name, s->kind->name, how);
			v = here;
		}
	}
	free(mark);
	return v;
}
