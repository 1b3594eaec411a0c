using System.Reflection;

namespace RevNetIlgpu.RevNet.Gpu;

/// <summary>
/// What <see cref="KernelCatalog.Discover"/> found: every kernel the workload loaded (closed generics included, ordered by
/// <see cref="KernelCatalog.DisplayName"/>) and every kernel method declared in the Kernels assembly that it never loaded.
/// </summary>
public sealed record KernelDiscovery(IReadOnlyList<MethodInfo> Kernels, IReadOnlyList<MethodInfo> NeverLoaded);
