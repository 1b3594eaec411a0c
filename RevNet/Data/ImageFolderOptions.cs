namespace RevNetIlgpu.RevNet.Data;

/// <summary>How an image folder becomes a dataset (see <see cref="ImageFolder"/>).</summary>
/// <param name="ImageSize">Resize the shorter side to N and crop the centre N x N; null: the images' own size, which they must share.</param>
/// <param name="Channels">1 (grey) or 3 (RGB); null: 1 when every image is stored grey, else 3.</param>
/// <param name="ValidationFraction">With no test/ folder: hold out this fraction of each class's training images as the test set.</param>
public sealed record ImageFolderOptions(int? ImageSize = null, int? Channels = null, double? ValidationFraction = null);
