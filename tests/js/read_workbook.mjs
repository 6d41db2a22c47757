// Reads an XLSX file with ExcelJS (a spreadsheet library of its own, not
// openpyxl) and prints every sheet's cells as JSON: per sheet its name and
// rows, each cell as [type, value] with type "string", "number", "date"
// (its wall-clock time as 'YYYY-MM-DDTHH:MM:SS'), "formula" or "empty";
// formulas are reported, never evaluated.
//
// Usage: node tests/js/read_workbook.mjs [file.xlsx]   (stdin without a file)
import { readFileSync } from "node:fs";
import ExcelJS from "exceljs";

const data = readFileSync(process.argv[2] ?? 0);
const book = new ExcelJS.Workbook();
await book.xlsx.load(data);
const kind = (cell) => {
  switch (cell.type) {
    case ExcelJS.ValueType.Null: return ["empty", null];
    case ExcelJS.ValueType.Number: return ["number", cell.value];
    case ExcelJS.ValueType.String: return ["string", cell.value];
    case ExcelJS.ValueType.RichText: return ["string", cell.value.richText.map((part) => part.text).join("")];
    case ExcelJS.ValueType.Date: return ["date", cell.value.toISOString().slice(0, 19)];
    case ExcelJS.ValueType.Formula: return ["formula", cell.formula];
    default: return [`other:${cell.type}`, String(cell.value)];
  }
};
const sheets = [];
book.eachSheet((sheet) => {
  const rows = [];
  for (let r = 1; r <= sheet.rowCount; r++) {
    const row = sheet.getRow(r);
    const cells = [];
    for (let c = 1; c <= sheet.columnCount; c++) cells.push(kind(row.getCell(c)));
    rows.push(cells);
  }
  sheets.push({ name: sheet.name, rows });
});
process.stdout.write(JSON.stringify(sheets));
