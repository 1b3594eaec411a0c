namespace RevNetIlgpu.RevNet.Data;

/// <summary>
/// Builds the one exception type every loader throws for bad input: an
/// <see cref="InvalidDataException"/> (sealed, so not subclassed) whose message starts with the
/// file or stream name, then the problem.
/// </summary>
internal static class MalformedFile
{
    public static InvalidDataException Error(string source, string problem, Exception? inner = null) =>
        new($"{source}: {problem}", inner);
}
