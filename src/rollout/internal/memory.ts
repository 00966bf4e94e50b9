/**
 * The memory backend: the process is the source of truth, the history an {@link AuditRing}.
 *
 * @internal
 */
import { Effect } from "effect"
import { AUDIT_HISTORY_LIMIT, type AuditEntry, AuditRing } from "../AuditLog.ts"
import type { Backend } from "./backend.ts"
import { lineageOf } from "./lineage.ts"
import type { LocalState } from "./localState.ts"

/** @internal */
export const makeMemoryBackend = (local: LocalState, historyLimit: number = AUDIT_HISTORY_LIMIT): Backend => {
  const ring = new AuditRing<AuditEntry>(historyLimit)
  return {
    load: Effect.sync(() => ({ _tag: "Valid", document: local.current } as const)),
    compareAndSet: (expected, _missingVersion, next, entry) =>
      Effect.sync(() => {
        const current = local.current
        if (current.version !== expected.version || lineageOf(current) !== expected.lineage) {
          return { ok: false, current } as const
        }
        // compare and set in one synchronous step: no other fiber can interleave
        local.accept(next)
        ring.push(entry)
        return { ok: true } as const
      }),
    append: (entry) => Effect.sync(() => ring.push(entry)),
    history: (limit) => Effect.sync(() => ring.newestFirst(limit))
  }
}
