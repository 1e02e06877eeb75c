using System.Diagnostics;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using TieDxl.Bench;
using TieDxl.Dxl.Config;
using TieDxl.Fabric.Pki;
using TieDxl.Tests.Envelope;
using TieDxl.Tests.Infrastructure;

// Usage: TieDxl.Bench ceiling [--brokers mosquitto,fabric] [--seconds 3] [--inflight 1,16,64,256] [--repeat 1]
//        TieDxl.Bench codec
//        TieDxl.Bench fuzz [--cases 2000000]
//        TieDxl.Bench ceiling-remote --config <path> --broker <name> [--inflight 64,256] [--seconds 3] [--repeat 1]
//        TieDxl.Bench bytes --config <path> --broker <name> [--count 20000] [--runs 3] [--profile]
//        TieDxl.Bench serve [--broker fabric|mosquitto] [--delay-ms 0]   (a TIE simulator and the echo service for pwsh
//                                                                          scenarios and ceiling-remote;
//                                                                          prints "CONFIG <path>", runs until stdin closes)
// Every result is printed as one JSON line prefixed "RESULT " for build.ps1 to collect.
var command = args.Length > 0 ? args[0] : "ceiling";
string Option(string name, string fallback)
{
    var i = Array.IndexOf(args, "--" + name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

switch (command)
{
    case "ceiling":
    {
        var seconds = double.Parse(Option("seconds", "3"), System.Globalization.CultureInfo.InvariantCulture);
        var inFlight = Option("inflight", "1,16,64,256").Split(',').Select(int.Parse).ToArray();
        foreach (var broker in Option("brokers", "mosquitto,fabric").Split(','))
        {
            await using var environment = await BenchEnvironment.StartAsync(broker);
            foreach (var result in await CeilingBenchmark.RunAsync(broker, environment.NewConfig, inFlight, TimeSpan.FromSeconds(seconds), int.Parse(Option("repeat", "1"))))
                Console.WriteLine("RESULT " + result.ToJson());
        }
        break;
    }
    case "codec":
    {
        var config = ManualConfig.CreateMinimumViable().AddJob(Job.ShortRun).WithOptions(ConfigOptions.DisableLogFile);
        var summary = BenchmarkRunner.Run<CodecBenchmarks>(config);
        foreach (var report in summary.Reports)
        {
            var name = report.BenchmarkCase.Descriptor.WorkloadMethod.Name;
            var ns = report.ResultStatistics?.Mean ?? double.NaN;
            var bytes = report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase) ?? 0;
            Console.WriteLine("RESULT " + new BenchResult("codec", "-", name, 1, 0, Math.Round(1e9 / ns), Math.Round(ns / 1e6, 6), null, null, $"{ns:0} ns/op, {bytes} B/op").ToJson());
        }
        break;
    }
    case "fuzz":
    {
        var cases = int.Parse(Option("cases", "2000000"));
        var vectors = Directory.GetFiles(BenchEnvironment.VectorsFolder(), "*.json")
            .Select(f => System.Text.Json.JsonDocument.Parse(File.ReadAllText(f)).RootElement.GetProperty("encoded_hex").GetString()!)
            .Select(Convert.FromHexString).ToList();
        var watch = Stopwatch.StartNew();
        var result = EnvelopeFuzz.Run(seed: Environment.TickCount, cases, vectors);
        Console.WriteLine("RESULT " + new BenchResult("fuzz", "-", $"{result.Cases} cases, {result.Rejected} rejected, {result.Decoded} decoded", result.Cases,
            Math.Round(watch.Elapsed.TotalSeconds, 1), Math.Round(result.Cases / watch.Elapsed.TotalSeconds), null, null, null, result.Failure ?? "only DxlEnvelopeException escaped").ToJson());
        if (result.Failure is not null) return 1;
        break;
    }
    case "ceiling-remote":
    {
        // The echo service is hosted by a running `serve`; only the requester runs here.
        var seconds = double.Parse(Option("seconds", "3"), System.Globalization.CultureInfo.InvariantCulture);
        var config = Option("config", "");
        var inFlight = Option("inflight", "64,256").Split(',').Select(int.Parse).ToArray();
        foreach (var result in await CeilingBenchmark.RunRemoteAsync(Option("broker", "?"), () => DxlClientConfig.Load(config), inFlight, TimeSpan.FromSeconds(seconds), int.Parse(Option("repeat", "1"))))
            Console.WriteLine("RESULT " + result.ToJson());
        break;
    }
    case "lookups":
    {
        var config = Option("config", "");
        foreach (var n in Option("inflight", "1,64").Split(',').Select(int.Parse))
            Console.WriteLine("RESULT " + (await TieLookupBenchmark.RunAsync(Option("broker", "?"), config, n, int.Parse(Option("count", "20000")))).ToJson());
        break;
    }
    case "bytes":
    {
        // Bytes per TieClient lookup against a running `serve`; --profile adds the allocation ticks by type.
        using var profile = args.Contains("--profile") ? new AllocationProfile() : null;
        var result = await TieLookupBenchmark.MeasureBytesAsync(Option("broker", "?"), Option("config", ""), int.Parse(Option("count", "20000")), int.Parse(Option("runs", "3")), profile);
        Console.WriteLine("RESULT " + result.ToJson());
        if (profile is not null)
            foreach (var line in profile.Report()) Console.WriteLine(line);
        break;
    }
    case "serve":
    {
        var broker = Option("broker", "fabric");
        var delay = TimeSpan.FromMilliseconds(double.Parse(Option("delay-ms", "0"), System.Globalization.CultureInfo.InvariantCulture));
        await using var environment = await BenchEnvironment.StartAsync(broker, new TieDxl.Fabric.DxlTestFabricOptions { ResponseDelay = delay });
        await using var simulator = await TieSimulatorHost.StartAsync(environment, delay);
        await using var echo = await CeilingBenchmark.HostEchoAsync(environment.NewConfig);
        Console.WriteLine("CONFIG " + environment.ConfigPath);
        Console.Out.Flush();
        // Runs until the driving script closes our stdin (or kills us).
        while (await Console.In.ReadLineAsync() is not null) { }
        break;
    }
    default:
        Console.Error.WriteLine($"unknown command '{command}'");
        return 2;
}
return 0;
