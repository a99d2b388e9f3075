using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Basalt.Benchmarks;

/// <summary>
/// A throughput column: how many units (bytes in the column's scale) one operation handles, divided by
/// the mean time per operation. Used for MB/s of text and GB/s of weights or memory.
/// </summary>
/// <param name="name">Column header, e.g. "GB/s".</param>
/// <param name="legend">What the figure means.</param>
/// <param name="unitsPerOperation">Units one operation of the benchmark case processes.</param>
internal sealed class RateColumn(string name, string legend, Func<BenchmarkCase, double> unitsPerOperation) : IColumn
{
    public string Id => nameof(RateColumn) + name;
    public string ColumnName => name;
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => legend;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var stats = summary[benchmarkCase]?.ResultStatistics;
        if (stats is null || stats.Mean <= 0) return "NA";
        return (unitsPerOperation(benchmarkCase) / (stats.Mean / 1e9)).ToString("F2", CultureInfo.InvariantCulture);
    }
}
