using RevNetIlgpu.Engine;

namespace RevNetIlgpu.Cli;

/// <summary>Turns the errors a user can cause (bad arguments, missing or corrupt files, out of memory) into one line and exit code 2.</summary>
public static class CommandErrors
{
    public const int UserError = 2;

    public static int Run(Func<int> command)
    {
        try
        {
            return command();
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or IOException or DeviceOutOfMemoryException
                                      or InvalidOperationException or UnauthorizedAccessException or NotSupportedException)
        {
            Console.Error.WriteLine($"revnet: error: {e.Message}");
            return UserError;
        }
    }
}
