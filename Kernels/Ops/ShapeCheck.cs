namespace RevNetIlgpu.Kernels;

/// <summary>Argument checks shared by every kernel entry point: each failure names the op, what was expected and what came.</summary>
internal static class ShapeCheck
{
    /// <summary>The size must be above zero.</summary>
    internal static void Positive(string op, string name, int value)
    {
        if (value <= 0) throw new ArgumentException($"{op}: {name} must be positive, got {value}");
    }

    /// <summary>The size must be zero or more.</summary>
    internal static void NonNegative(string op, string name, int value)
    {
        if (value < 0) throw new ArgumentException($"{op}: {name} must be non-negative, got {value}");
    }

    /// <summary>The view must hold exactly <paramref name="expected"/> elements.</summary>
    internal static void Length(string op, string name, long actual, long expected)
    {
        if (actual != expected)
            throw new ArgumentException($"{op}: {name} must have {expected} elements, got {actual}");
    }
}
