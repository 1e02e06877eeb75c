using System.Text;
using BenchmarkDotNet.Attributes;
using TieDxl.Dxl.Messages;

namespace TieDxl.Bench;

/// <summary>Scenario 5: encode and decode of typical request/response envelopes, time and allocations.</summary>
[MemoryDiagnoser]
public class CodecBenchmarks
{
    private DxlRequest _request = null!;
    private DxlResponse _response = null!;
    private byte[] _requestBytes = null!;
    private byte[] _responseBytes = null!;

    [GlobalSetup]
    public void Setup()
    {
        // A TIE file-reputation lookup and its answer, as they travel.
        _request = new DxlRequest("/mcafee/service/tie/file/reputation", Encoding.UTF8.GetBytes(
            "{\"hashes\": [{\"type\": \"md5\", \"value\": \"8se7isyX+S6Yei1Ah9AhsQ==\"}, {\"type\": \"sha1\", \"value\": \"frATnSF1c5s8yw0REAZ4IL5qvSk=\"}, {\"type\": \"sha256\", \"value\": \"FC4daI7wVoNww3GH/Z8jUdfd7aV0+L+psPpO9C24WqI=\"}], \"scanType\": 3}"))
        {
            ReplyToTopic = "/mcafee/client/{d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6}",
        };
        _response = new DxlResponse(_request, Encoding.UTF8.GetBytes(
            "{\"props\":{\"serverTime\":1451505556,\"submitMetaData\":1},\"reputations\":[{\"attributes\":{\"2120340\":\"2139160704\"},\"createDate\":1451502875,\"providerId\":1,\"trustLevel\":99},{\"attributes\":{\"2101652\":\"17\",\"2102165\":\"1451502875\",\"2111893\":\"21\",\"2114965\":\"0\",\"2139285\":\"72339069014638857\"},\"createDate\":1451502875,\"providerId\":3,\"trustLevel\":0}]}"))
        {
            Version = 3,
            SourceClientId = "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3",
            SourceBrokerId = "6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d",
            SourceClientInstanceId = "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3:1c9e2f4a-7b3d-4e6f-8a1c-2d3e4f5a6b7c",
        };
        _requestBytes = DxlEnvelope.Encode(_request);
        _responseBytes = DxlEnvelope.Encode(_response);
    }

    [Benchmark] public byte[] EncodeRequest() => DxlEnvelope.Encode(_request);
    [Benchmark] public byte[] EncodeResponse() => DxlEnvelope.Encode(_response);
    [Benchmark] public DxlMessage DecodeRequest() => DxlEnvelope.Decode(_requestBytes, "/mcafee/service/tie/file/reputation");
    [Benchmark] public DxlMessage DecodeResponse() => DxlEnvelope.Decode(_responseBytes, "/mcafee/client/x");
}
