/**
 * Bucketing one request id: our allocation-free murmur3 (the default), the SHA-256 option (the
 * seeds' choice, `node:crypto`), and the enforced-set check a decision makes, against a floor.
 *
 * Floor: one pass over the key's UTF-16 code units (`charCodeAt` sum) — any hash of the key must at
 * least read every unit, so no bucketing can be cheaper than this loop.
 *
 * Every task cycles through the same 1,024 precomputed UUIDs, 16 keys per `fn` call.
 */
import { Schema } from "effect"
import {
  bucketOf,
  DEFAULT_ENFORCEMENT_SALT,
  isInEnforcedSet,
  isSampledForLogs,
  StageValidationConfig
} from "../../src/rollout/index.ts"
import type { BenchSuite } from "../suite.ts"

const BATCH = 16
const IDS = Array.from({ length: 1024 }, () => crypto.randomUUID())
const MASK = IDS.length - 1
const AT_10 = Schema.decodeUnknownSync(StageValidationConfig)({ enforcementPercent: 10 })

let i = 0
let sink: unknown

export const suite: BenchSuite = {
  name: "bucketing",
  description: "bucket of one UUID request id (16 per call)",
  tasks: [
    {
      name: "floor: one pass over the key (charCodeAt sum)",
      floor: true,
      batch: BATCH,
      fn: () => {
        for (let k = 0; k < BATCH; k++) {
          const key = IDS[i++ & MASK]!
          let h = 0
          for (let j = 0; j < key.length; j++) h = (h + key.charCodeAt(j)) | 0
          sink = h
        }
      }
    },
    {
      name: "bucketOf murmur3 (default)",
      batch: BATCH,
      fn: () => {
        for (let k = 0; k < BATCH; k++) sink = bucketOf(IDS[i++ & MASK]!, DEFAULT_ENFORCEMENT_SALT, "murmur3")
      }
    },
    {
      // Named as a peer so bench:compare does not gate it: its cost is node:crypto's (Hash object
      // allocation and GC), which swings ±30 % against a 45 ns floor on a shared machine.
      name: "peer: bucketOf sha256 (option; node:crypto)",
      batch: BATCH,
      fn: () => {
        for (let k = 0; k < BATCH; k++) sink = bucketOf(IDS[i++ & MASK]!, DEFAULT_ENFORCEMENT_SALT, "sha256")
      }
    },
    {
      name: "isInEnforcedSet @ 10 %",
      batch: BATCH,
      fn: () => {
        for (let k = 0; k < BATCH; k++) sink = isInEnforcedSet(AT_10, IDS[i++ & MASK]!)
      }
    },
    {
      name: "isSampledForLogs @ 1 %",
      batch: BATCH,
      fn: () => {
        for (let k = 0; k < BATCH; k++) sink = isSampledForLogs(AT_10, IDS[i++ & MASK]!, 1)
      }
    }
  ],
  goals: [
    {
      description: "murmur3 is at least 5× faster than the SHA-256 option",
      task: "bucketOf murmur3 (default)",
      against: "peer: bucketOf sha256 (option; node:crypto)",
      metric: "mean",
      maxRatio: 0.2
    }
  ]
}
export const keepAlive = () => sink
