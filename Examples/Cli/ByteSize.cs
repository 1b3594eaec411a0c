using System.Globalization;

namespace RevNetIlgpu.Cli;

/// <summary>Byte counts as users write them: a whole number with an optional binary unit ("65536", "512KiB", "64MiB", "2GiB").</summary>
public static class ByteSize
{
    static readonly (string Unit, long Bytes)[] Units = [("GiB", 1L << 30), ("MiB", 1L << 20), ("KiB", 1L << 10), ("B", 1)];

    /// <summary>Parses <paramref name="text"/>; a malformed or non-positive size is an <see cref="ArgumentException"/> naming <paramref name="option"/>.</summary>
    public static long Parse(string text, string option)
    {
        var trimmed = text.Trim();
        var (unit, scale) = Units.FirstOrDefault(u => trimmed.EndsWith(u.Unit, StringComparison.OrdinalIgnoreCase), ("", 1));
        if (long.TryParse(trimmed[..^unit.Length], NumberStyles.None, CultureInfo.InvariantCulture, out long count)
            && count > 0 && count <= long.MaxValue / scale)
            return count * scale;
        throw new ArgumentException($"{option} must be a positive size such as 65536, 512KiB, 64MiB or 2GiB, got '{text}'");
    }
}
