using System.Text;
using Spectre.Console;

namespace RevNetIlgpu.Cli;

/// <summary>A benchmark's result rows, rendered once for the terminal and once as markdown for docs/benchmarks.</summary>
public sealed class BenchmarkTable(string title, params string[] headers)
{
    readonly List<string[]> rows = [];

    public void AddRow(params string[] cells)
    {
        if (cells.Length != headers.Length) throw new ArgumentException($"row has {cells.Length} cells, table has {headers.Length} columns");
        rows.Add(cells);
    }

    public Table ToSpectre()
    {
        var table = new Table().Title(Markup.Escape(title));
        foreach (var h in headers) table.AddColumn(new TableColumn(Markup.Escape(h)).RightAligned());
        foreach (var row in rows) table.AddRow(row.Select(Markup.Escape).ToArray());
        return table;
    }

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.AppendLine($"| {string.Join(" | ", headers)} |");
        text.AppendLine($"|{string.Join("|", headers.Select(_ => " ---: "))}|");
        foreach (var row in rows) text.AppendLine($"| {string.Join(" | ", row)} |");
        return text.ToString();
    }
}
