using RevNetIlgpu.RevNet.Data;

namespace RevNetIlgpu.Tests.Data;

/// <summary>Small in-memory datasets whose pixels encode their index, so tests can tell images apart.</summary>
internal static class SyntheticDatasets
{
    public static ImageDataset Indexed(int count, int channels, int height, int width, int classes)
    {
        int size = channels * height * width;
        var images = new float[count * size];
        for (int i = 0; i < images.Length; i++)
            images[i] = i / size + (i % size) / (float)size;
        var labels = Enumerable.Range(0, count).Select(i => i % classes).ToArray();
        return new ImageDataset("indexed", images, labels, channels, height, width, classes);
    }
}
