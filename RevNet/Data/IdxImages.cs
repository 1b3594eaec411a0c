namespace RevNetIlgpu.RevNet.Data;

/// <summary>The contents of an IDX image file: <see cref="Count"/> greyscale images of Rows x Columns bytes.</summary>
public sealed record IdxImages(int Count, int Rows, int Columns, byte[] Pixels);
