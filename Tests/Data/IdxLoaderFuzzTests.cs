using System.Buffers.Binary;
using NUnit.Framework;
using RevNetIlgpu.RevNet.Data;

namespace RevNetIlgpu.Tests.Data;

public class IdxLoaderFuzzTests
{
    private const int Iterations = 10_000;

    /// <summary>How the mutated bytes reach the loader.</summary>
    public enum Encoding
    {
        /// <summary>Uncompressed.</summary>
        Raw,

        /// <summary>The file is mutated, then gzipped: reaches the IDX checks through the decompressor.</summary>
        MutatedThenGzipped,

        /// <summary>The gzipped file is mutated: reaches the decompressor's own checks.</summary>
        GzipMutated,
    }

    [Test]
    public void ReadImages_MutatedFiles_LoadOrThrowInvalidData([Values] Encoding encoding)
    {
        var valid = OfficialFormatWriter.IdxImages(3, 4, 5, i => (byte)i);
        var fuzzer = Fuzzer(valid, seed: 10 + (int)encoding, fieldOffsets: [0, 4, 8, 12], encoding);

        var (loaded, _) = fuzzer.Run(Iterations, bytes => IdxLoader.ReadImages(new MemoryStream(bytes), "images.idx"), $"IDX images ({encoding})");

        Assert.That(loaded, Is.GreaterThan(0), "pixel-only mutations still load");
    }

    [Test]
    public void ReadLabels_MutatedFiles_LoadOrThrowInvalidData([Values] Encoding encoding)
    {
        var valid = OfficialFormatWriter.IdxLabels([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 3, 3]);
        var fuzzer = Fuzzer(valid, seed: 20 + (int)encoding, fieldOffsets: [0, 4], encoding);

        var (loaded, _) = fuzzer.Run(Iterations, bytes => IdxLoader.ReadLabels(new MemoryStream(bytes), "labels.idx", 10), $"IDX labels ({encoding})");

        Assert.That(loaded, Is.GreaterThan(0));
    }

    private static MutationFuzzer Fuzzer(byte[] valid, int seed, int[] fieldOffsets, Encoding encoding)
    {
        var fuzzer = new MutationFuzzer(encoding == Encoding.GzipMutated ? OfficialFormatWriter.Gzip(valid) : valid, seed)
        {
            Encode = encoding == Encoding.MutatedThenGzipped ? OfficialFormatWriter.Gzip : bytes => bytes,
        };
        if (encoding != Encoding.GzipMutated)
        {
            fuzzer.FieldMutations.Add((random, bytes) =>
            {
                int offset = fieldOffsets[random.Next(fieldOffsets.Length)];
                if (bytes.Length >= offset + 4)
                    BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(offset), MutationFuzzer.ExtremeInt32[random.Next(MutationFuzzer.ExtremeInt32.Length)]);
                return bytes;
            });
        }
        return fuzzer;
    }
}
