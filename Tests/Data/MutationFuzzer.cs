using System.Diagnostics;
using NUnit.Framework;

namespace RevNetIlgpu.Tests.Data;

/// <summary>
/// Feeds a loader mutated copies of a small valid file and checks the loader contract: each input
/// loads or throws <see cref="InvalidDataException"/>, never another exception, never allocates
/// more than a small cap, and the run finishes quickly (a hang guard, not a benchmark).
/// </summary>
internal sealed class MutationFuzzer(byte[] valid, int seed)
{
    /// <summary>Extreme values for 4-byte size fields: zero, one, the int limits, all ones.</summary>
    public static readonly uint[] ExtremeInt32 = [0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF];

    private const long AllocationCapPerInput = 8 << 20;
    private static readonly TimeSpan RunLimit = TimeSpan.FromSeconds(60);

    private readonly Random _random = new(seed);

    /// <summary>Format-aware mutations (e.g. setting a size field to an extreme) mixed in with the generic ones.</summary>
    public List<Func<Random, byte[], byte[]>> FieldMutations { get; } = [];

    /// <summary>Optionally turns each mutated input into the bytes the loader sees (e.g. gzips it).</summary>
    public Func<byte[], byte[]> Encode { get; init; } = bytes => bytes;

    public (int Loaded, int Rejected) Run(int iterations, Action<byte[]> load, string what)
    {
        int loaded = 0, rejected = 0;
        var total = Stopwatch.StartNew();
        var slowest = TimeSpan.Zero;
        for (int i = 0; i < iterations; i++)
        {
            var input = Encode(Mutate());
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            var one = Stopwatch.StartNew();
            try
            {
                load(input);
                loaded++;
            }
            catch (InvalidDataException)
            {
                rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"{what} input {i} ({input.Length} bytes, head {Convert.ToHexString(input, 0, Math.Min(32, input.Length))}) threw {e.GetType().Name}: {e}");
            }
            slowest = one.Elapsed > slowest ? one.Elapsed : slowest;
            long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            Assert.That(allocated, Is.LessThan(AllocationCapPerInput), $"{what} input {i} ({input.Length} bytes) allocated {allocated} bytes");
            Assert.That(total.Elapsed, Is.LessThan(RunLimit), $"{what} fuzzing is hanging at input {i}");
        }
        Assert.That(loaded + rejected, Is.EqualTo(iterations));
        TestContext.Out.WriteLine($"{what}: {iterations} inputs, {loaded} loaded, {rejected} rejected, {total.ElapsedMilliseconds} ms total, slowest {slowest.TotalMilliseconds:F1} ms");
        return (loaded, rejected);
    }

    // One to three stacked mutations of the valid file.
    private byte[] Mutate()
    {
        var bytes = (byte[])valid.Clone();
        int count = _random.Next(1, 4);
        for (int m = 0; m < count; m++)
        {
            int kind = _random.Next(FieldMutations.Count > 0 ? 6 : 5);
            bytes = kind switch
            {
                0 => FlipBits(bytes),
                1 => OverwriteBytes(bytes),
                2 => bytes[.._random.Next(bytes.Length + 1)],
                3 => [.. bytes, .. RandomBytes(_random.Next(1, 16))],
                4 => bytes.Length == 0 ? bytes : [.. bytes[..(_random.Next(bytes.Length))], .. bytes[(_random.Next(bytes.Length))..]],
                _ => FieldMutations[_random.Next(FieldMutations.Count)](_random, bytes),
            };
        }
        return bytes;
    }

    private byte[] FlipBits(byte[] bytes)
    {
        for (int f = _random.Next(1, 5); f > 0 && bytes.Length > 0; f--)
            bytes[_random.Next(bytes.Length)] ^= (byte)(1 << _random.Next(8));
        return bytes;
    }

    private byte[] OverwriteBytes(byte[] bytes)
    {
        byte[] special = [0x00, 0x01, 0x7F, 0x80, 0xFF];
        for (int f = _random.Next(1, 5); f > 0 && bytes.Length > 0; f--)
            bytes[_random.Next(bytes.Length)] = _random.Next(2) == 0 ? special[_random.Next(special.Length)] : (byte)_random.Next(256);
        return bytes;
    }

    private byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        _random.NextBytes(bytes);
        return bytes;
    }
}
