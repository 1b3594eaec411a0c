namespace RevNetIlgpu.Kernels;

/// <summary>Argument checks shared by every kernel entry point: each failure names the op, what was expected and what came.</summary>
public static class ShapeCheck
{
    public static void Positive(string op, string name, int value)
    {
        if (value <= 0) throw new ArgumentException($"{op}: {name} must be positive, got {value}");
    }

    public static void NonNegative(string op, string name, int value)
    {
        if (value < 0) throw new ArgumentException($"{op}: {name} must be non-negative, got {value}");
    }

    /// <summary>The view must hold exactly <paramref name="expected"/> elements.</summary>
    public static void Length(string op, string name, long actual, long expected)
    {
        if (actual != expected)
            throw new ArgumentException($"{op}: {name} must have {expected} elements, got {actual}");
    }
}
