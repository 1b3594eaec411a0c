namespace RevNetIlgpu.RevNet.Checkpoints;

/// <summary>Writes files so that a crash or exception at any moment leaves either the previous file or the complete new one.</summary>
public static class AtomicFile
{
    /// <summary>
    /// Runs <paramref name="write"/> on <c>path + ".tmp-&lt;pid&gt;"</c>, flushes it to disk, then renames it over
    /// <paramref name="path"/>. The temporary file is removed when writing fails.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        string temporary = $"{path}.tmp-{Environment.ProcessId}";
        try
        {
            using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 20))
            {
                write(file);
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }
}
