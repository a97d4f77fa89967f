import HubTwins
import Testing

@Suite("HubTwins module")
struct HubTwinsModuleTests {
    @Test("the module links")
    func links() { #expect(String(describing: HubTwins.self) == "HubTwins") }
}
