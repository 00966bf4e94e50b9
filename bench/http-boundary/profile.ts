/**
 * Reading the benchmark's CPU profiles (`.cpuprofile`, V8's format): self time per frame
 * (function, file, line), idle excluded, divided by the requests of the window, and the frames
 * where the boundary's window (B) spends the most more than the baseline's (A). Internal to the
 * benchmark; sampling inflates every figure, so read them as relative.
 */
import { readFileSync } from "node:fs"

interface CpuProfile {
  readonly nodes: ReadonlyArray<{
    readonly id: number
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  }>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

const frameName = (frame: CpuProfile["nodes"][number]["callFrame"]): string => {
  const url = frame.url.replace(/^.*node_modules\//, "").replace(/^.*?\/(src|bench)\//, "$1/")
  return `${frame.functionName || "(anonymous)"} ${url}:${frame.lineNumber + 1}`
}

/** Self time per frame, µs per request (idle excluded). */
export const selfTimePerRequest = (file: string, requests: number): Map<string, number> => {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile
  const byNode = new Map<number, number>()
  profile.samples.forEach((id, i) => byNode.set(id, (byNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
  const out = new Map<string, number>()
  for (const node of profile.nodes) {
    if (node.callFrame.functionName === "(idle)") continue
    const name = frameName(node.callFrame)
    out.set(name, (out.get(name) ?? 0) + (byNode.get(node.id) ?? 0) / requests)
  }
  return out
}

const sum = (m: Map<string, number>) => [...m.values()].reduce((x, y) => x + y, 0)

/** Prints the total and the `top` frames with the largest B − A self time. */
export const printProfileDiff = (
  a: { readonly file: string; readonly requests: number },
  b: { readonly file: string; readonly requests: number },
  top: number,
  log: (line: string) => void
): void => {
  const A = selfTimePerRequest(a.file, a.requests)
  const B = selfTimePerRequest(b.file, b.requests)
  log(`  total   A ${sum(A).toFixed(1)} µs  B ${sum(B).toFixed(1)} µs  B − A ${(sum(B) - sum(A)).toFixed(1)} µs`)
  const names = new Set([...A.keys(), ...B.keys()])
  const rows = [...names].map((name) => ({ name, a: A.get(name) ?? 0, b: B.get(name) ?? 0 }))
  rows.sort((x, y) => (y.b - y.a) - (x.b - x.a))
  for (const row of rows.slice(0, top)) {
    log(`  ${(row.b - row.a).toFixed(2).padStart(7)}  (A ${row.a.toFixed(2).padStart(6)}, B ${row.b.toFixed(2).padStart(6)})  ${row.name}`)
  }
}
