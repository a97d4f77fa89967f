/// Several observers as one: each is told every event, in order.
public struct BrokerObserverGroup: BrokerObserver {
    public let observers: [any BrokerObserver]

    public init(_ observers: [any BrokerObserver]) {
        self.observers = observers
    }

    public func clientConnected(clientID: String, grant: ConnectGrant) {
        for observer in observers { observer.clientConnected(clientID: clientID, grant: grant) }
    }

    public func clientDisconnected(clientID: String, grant: ConnectGrant) {
        for observer in observers { observer.clientDisconnected(clientID: clientID, grant: grant) }
    }

    public func clientSubscribed(clientID: String, filters: [String]) {
        for observer in observers { observer.clientSubscribed(clientID: clientID, filters: filters) }
    }

    public func messageAcknowledged(clientID: String, deliveryTag: UInt64) {
        for observer in observers { observer.messageAcknowledged(clientID: clientID, deliveryTag: deliveryTag) }
    }
}
