import ProvisioContext
import ProvisioCore
import ProvisioHistory
import Testing

@Suite struct PercentileAndQuantityTests {
    @Test func nearestRankPercentiles() {
        let p = Percentiles((1...100).map(Double.init))
        #expect(p.p50 == 50)
        #expect(p.p95 == 95)
        #expect(p.p99 == 99)
        #expect(p.max == 100)
        let one = Percentiles([7])
        #expect(one.p50 == 7 && one.p99 == 7)
    }

    @Test(arguments: [(0.4, 400), (0.3333, 334), (1.0, 1000), (0.0001, 1), (2.5, 2500)])
    func coresRoundUpWithoutFloatingNoise(cores: Double, millicores: Int) {
        #expect(CPUQuantity(cores: cores).millicores == millicores)
    }

    @Test(arguments: [("100m", "100m"), ("0.5", "500m"), ("4.03", "4030m"), ("2", "2"), ("1500m", "1500m")])
    func cpuQuantitiesPrintCanonically(text: String, printed: String) {
        #expect(CPUQuantity(parsing: text)?.description == printed)
    }

    @Test(arguments: [
        ("128Mi", "128Mi"), ("1024Mi", "1Gi"), ("1G", "1G"), ("2.5G", "2500M"), ("512M", "512M"), ("1536Mi", "1536Mi"), ("64Ki", "64Ki"), ("1000", "1000"),
    ])
    func memoryQuantitiesPrintCanonically(text: String, printed: String) {
        #expect(MemoryQuantity(parsing: text)?.description == printed)
    }
}
