/** Aligned, borderless tables in the style of `docker ps`: headers in capitals, two spaces between columns. */
import Table from "cli-table3";

export function renderTable(
  headers: string[],
  rows: string[][],
  paintHeader: (text: string) => string,
): string {
  const table = new Table({
    head: headers.map((header) => paintHeader(header.toUpperCase())),
    chars: {
      top: "",
      "top-mid": "",
      "top-left": "",
      "top-right": "",
      bottom: "",
      "bottom-mid": "",
      "bottom-left": "",
      "bottom-right": "",
      left: "",
      "left-mid": "",
      mid: "",
      "mid-mid": "",
      right: "",
      "right-mid": "",
      middle: "  ",
    },
    style: { head: [], border: [], "padding-left": 0, "padding-right": 0 },
  });
  table.push(...rows);
  return table
    .toString()
    .split("\n")
    .map((line) => line.trimEnd())
    .join("\n");
}
