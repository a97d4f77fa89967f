import HubMessaging
import Testing

@Suite("HubMessaging module")
struct HubMessagingModuleTests {
    @Test("the module links")
    func links() { #expect(String(describing: HubMessaging.self) == "HubMessaging") }
}
