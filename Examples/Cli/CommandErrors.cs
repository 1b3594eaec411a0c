using RevNetIlgpu.Engine;

namespace RevNetIlgpu.Cli;

/// <summary>
/// Turns the errors a user can cause or must act on (bad arguments, missing or corrupt files, out of memory, a diverged
/// run) into one line and exit code 2, with no stack trace.
/// </summary>
public static class CommandErrors
{
    public const int UserError = 2;

    public static int Run(Func<int> command)
    {
        try
        {
            return command();
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or IOException or DeviceOutOfMemoryException or NonFiniteException
                                      or InvalidOperationException or UnauthorizedAccessException or NotSupportedException)
        {
            return Report(e.Message);
        }
    }

    /// <summary>Prints <paramref name="message"/> as the one error line and returns <see cref="UserError"/>.</summary>
    public static int Report(string message)
    {
        // Messages are single lines by contract; a stray newline must not let a second line look like output.
        Console.Error.WriteLine($"revnet: error: {message.ReplaceLineEndings(" ")}");
        return UserError;
    }
}
