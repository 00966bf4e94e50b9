/**
 * Plain-text tables for CLI reports: fixed-width columns, no colours (reports are pasted into
 * runbooks and CI logs).
 *
 * @since 0.1.0
 */

/**
 * Render rows under a header as an aligned text table.
 *
 * @example
 * ```ts
 * renderTable(["input", "stage"], [["Series A", "series-a"]])
 * // input     stage
 * // --------  --------
 * // Series A  series-a
 * ```
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderTable = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd()
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n")
}
