/**
 * Writes to the rollout document the way an operator does: `GET /_ops/stage-validation/mode` for
 * the version, then `PUT` with compare-and-set, an actor and a reason. One retry on a version
 * conflict (someone — the webhook, another instance — wrote in between).
 */
import { fetchWithTimeout } from "../e2e/processes.ts"

export interface ModeChange {
  readonly document: Readonly<Record<string, unknown>>
  readonly reason: string
  readonly force?: boolean
}

export interface ModeWrite {
  readonly status: number
  readonly body: { readonly version?: number; readonly error?: string; readonly message?: string }
}

const ACTOR = "rehearsal@stage-normalization"

export const putMode = async (serviceUrl: string, token: string, change: ModeChange): Promise<ModeWrite> => {
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" }
  for (let attempt = 0; ; attempt++) {
    const current = (await (await fetchWithTimeout(`${serviceUrl}/_ops/stage-validation/mode`, { headers })).json()) as { version: number }
    const r = await fetchWithTimeout(`${serviceUrl}/_ops/stage-validation/mode`, {
      method: "PUT",
      headers,
      body: JSON.stringify({ version: current.version, actor: ACTOR, reason: change.reason, force: change.force ?? false, document: change.document })
    })
    const body = (await r.json()) as ModeWrite["body"]
    if (r.status === 409 && body.error === "VERSION_CONFLICT" && attempt === 0) continue
    return { status: r.status, body }
  }
}
