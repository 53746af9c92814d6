import Kernels

// The templates of SyntheticArithmetic. Each draws its numbers so that every step's result is a
// positive integer and every division is exact, writes the question, and lists the steps.

private typealias Unit = ArithmeticProblem.Unit
private typealias Given = ArithmeticProblem.Given
private typealias Step = ArithmeticProblem.Step

private let dollar = Unit("dollar", "dollars")
private let names = [
    "Ava", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Isla", "Jonas", "Kemi", "Liam",
    "Maya", "Noor", "Omar", "Priya",
]

extension SyntheticArithmetic.Template {
    func make(_ r: inout SplitMix64) -> ArithmeticProblem {
        switch self {
        case .shopping: shopping(&r)
        case .sharing: sharing(&r)
        case .production: production(&r)
        case .saving: saving(&r)
        case .tickets: tickets(&r)
        case .travel: travel(&r)
        case .harvest: harvest(&r)
        }
    }

    private func shopping(_ r: inout SplitMix64) -> ArithmeticProblem {
        let goods: [(Unit, ClosedRange<Int>)] = [
            (Unit("notebook", "notebooks"), 2...6), (Unit("pen", "pens"), 1...4),
            (Unit("sandwich", "sandwiches"), 4...9), (Unit("museum ticket", "museum tickets"), 5...15),
            (Unit("plant pot", "plant pots"), 3...8), (Unit("candle", "candles"), 2...7),
        ]
        let name = r.pick(names)
        let first = r.uniform(0...(goods.count - 1))
        let second = (first + r.uniform(1...(goods.count - 1))) % goods.count
        let (item1, item2) = (goods[first].0, goods[second].0)
        let n1 = r.uniform(2...9), p1 = r.uniform(goods[first].1)
        let n2 = r.uniform(2...9), p2 = r.uniform(goods[second].1)
        let paid = [20, 50, 100, 200, 500].first { $0 > n1 * p1 + n2 * p2 }!
        let question =
            "\(name) buys \(n1) \(item1.plural) for \(dollar.format(p1)) each and \(n2) \(item2.plural) "
            + "for \(dollar.format(p2)) each, and pays with a \(paid)-dollar bill. How much change, in dollars, "
            + "does \(name) get back?"
        return ArithmeticProblem(
            question: question,
            steps: [
                Step(
                    "the cost of the \(item1.plural)", .given(Given("the number of \(item1.plural)", n1)),
                    .multiply, .given(Given("the price of one \(item1.singular)", p1, dollar)), unit: dollar),
                Step(
                    "the cost of the \(item2.plural)", .given(Given("the number of \(item2.plural)", n2)),
                    .multiply, .given(Given("the price of one \(item2.singular)", p2, dollar)), unit: dollar),
                Step("the total cost", .step(0), .add, .step(1), unit: dollar),
                Step("the change", .given(Given("the amount paid", paid, dollar)), .subtract, .step(2), unit: dollar),
            ],
            template: rawValue)
    }

    private func sharing(_ r: inout SplitMix64) -> ArithmeticProblem {
        let food = r.pick([
            Unit("cookie", "cookies"), Unit("muffin", "muffins"), Unit("bun", "buns"), Unit("brownie", "brownies"),
        ])
        let name = r.pick(names)
        let trays = r.uniform(2...5), perTray = r.uniform(6...12), friends = r.uniform(2...6)
        let baked = trays * perTray
        var kept = baked % friends == 0 ? friends : baked % friends
        let extra = r.uniform(0...2)
        if baked - (kept + friends * extra) >= friends { kept += friends * extra }
        let question =
            "\(name) bakes \(trays) trays of \(food.plural) with \(perTray) \(food.plural) on each tray. "
            + "\(name) keeps \(food.format(kept)) at home and shares the rest "
            + "equally among \(friends) friends. How many \(food.plural) does each friend get?"
        return ArithmeticProblem(
            question: question,
            steps: [
                Step(
                    "the number of \(food.plural) baked", .given(Given("the number of trays", trays)), .multiply,
                    .given(Given("the number of \(food.plural) on each tray", perTray, food)), unit: food),
                Step(
                    "the number of \(food.plural) to share", .step(0), .subtract,
                    .given(Given("the number of \(food.plural) kept", kept, food)), unit: food),
                Step(
                    "the number of \(food.plural) each friend gets", .step(1), .divide,
                    .given(Given("the number of friends", friends)), unit: food),
            ],
            template: rawValue)
    }

    private func production(_ r: inout SplitMix64) -> ArithmeticProblem {
        let item = r.pick([Unit("bottle", "bottles"), Unit("jar", "jars"), Unit("toy car", "toy cars")])
        let minutes = Unit("minute", "minutes")
        let perMinute = r.uniform(3...20), boxSize = r.pick([4, 5, 6, 8, 10, 12])
        // The total time must be a multiple of boxSize / gcd(perMinute, boxSize) for exact boxes.
        let step = boxSize / gcd(perMinute, boxSize)
        let total = step * r.uniform(max(1, 20 / step)...max(2, 120 / step))
        let morning = r.uniform(1...(total - 1)), afternoon = total - morning
        let question =
            "A machine makes \(perMinute) \(item.plural) per minute. It runs for \(minutes.format(morning)) "
            + "in the morning and \(minutes.format(afternoon)) in the afternoon. The \(item.plural) are "
            + "packed in boxes of \(boxSize). How many boxes are filled?"
        return ArithmeticProblem(
            question: question,
            steps: [
                Step(
                    "the total running time", .given(Given("the morning running time", morning, minutes)), .add,
                    .given(Given("the afternoon running time", afternoon, minutes)), unit: minutes),
                Step(
                    "the number of \(item.plural) made", .step(0), .multiply,
                    .given(Given("the number of \(item.plural) made per minute", perMinute)), unit: item),
                Step(
                    "the number of boxes filled", .step(1), .divide,
                    .given(Given("the number of \(item.plural) in a box", boxSize)), unit: Unit("box", "boxes")),
            ],
            template: rawValue)
    }

    private func saving(_ r: inout SplitMix64) -> ArithmeticProblem {
        let name = r.pick(names)
        let thing = r.pick(["bicycle", "guitar", "tablet", "telescope", "tent"])
        let net = r.uniform(5...40), weeks = r.uniform(2...12), saved = r.uniform(10...120)
        let spent = r.uniform(5...30)
        let earned = spent + net, price = saved + net * weeks
        let question =
            "\(name) earns \(earned) dollars a week and spends \(spent) dollars a week. \(name) has "
            + "already saved \(saved) dollars and wants a \(thing) that costs \(price) dollars. How many "
            + "weeks does \(name) need to save the rest?"
        return ArithmeticProblem(
            question: question,
            steps: [
                Step(
                    "the amount saved each week", .given(Given("the weekly earnings", earned, dollar)), .subtract,
                    .given(Given("the weekly spending", spent, dollar)), unit: dollar),
                Step(
                    "the amount still needed", .given(Given("the price of the \(thing)", price, dollar)),
                    .subtract, .given(Given("the amount already saved", saved, dollar)), unit: dollar),
                Step("the number of weeks", .step(1), .divide, .step(0), unit: Unit("week", "weeks")),
            ],
            template: rawValue)
    }

    private func tickets(_ r: inout SplitMix64) -> ArithmeticProblem {
        let place = r.pick(["a museum", "a zoo", "an aquarium", "a science fair"])
        let adults = r.uniform(2...5), children = r.uniform(1...6)
        let adultPrice = r.uniform(8...25)
        // children * childPrice must divide evenly among the adults.
        let childStep = adults / gcd(adults, children)
        let childPrice = childStep * r.uniform(max(1, 4 / childStep)...max(1, 15 / childStep))
        let question =
            "Tickets to \(place) cost \(adultPrice) dollars for an adult and \(childPrice) dollars for a "
            + "child. A group of \(adults) adults and \(children) \(children == 1 ? "child" : "children") "
            + "visits, and the adults split the whole cost equally. How many dollars does each adult pay?"
        return ArithmeticProblem(
            question: question,
            steps: [
                Step(
                    "the cost of the adult tickets", .given(Given("the number of adults", adults)), .multiply,
                    .given(Given("the price of an adult ticket", adultPrice, dollar)), unit: dollar),
                Step(
                    "the cost of the child tickets", .given(Given("the number of children", children)), .multiply,
                    .given(Given("the price of a child ticket", childPrice, dollar)), unit: dollar),
                Step("the total cost", .step(0), .add, .step(1), unit: dollar),
                Step(
                    "the amount each adult pays", .step(2), .divide,
                    .given(Given("the number of adults", adults)), unit: dollar),
            ],
            template: rawValue)
    }

    private func travel(_ r: inout SplitMix64) -> ArithmeticProblem {
        let name = r.pick(names)
        let km = Unit("kilometre", "kilometres"), hours = Unit("hour", "hours")
        let speed1 = 10 * r.uniform(4...11), speed2 = 10 * r.uniform(4...11)
        let hours1 = r.uniform(1...4), hours2 = r.uniform(1...4)
        let perLitre = r.pick([5, 10])
        let question =
            "\(name) drives at \(speed1) kilometres per hour for \(hours.format(hours1)), then at \(speed2) "
            + "kilometres per hour for \(hours.format(hours2)). The car uses one litre of fuel for every "
            + "\(perLitre) kilometres. How many litres of fuel does the drive use?"
        return ArithmeticProblem(
            question: question,
            steps: [
                Step(
                    "the distance of the first part", .given(Given("the first speed in kilometres per hour", speed1)),
                    .multiply, .given(Given("the first driving time", hours1, hours)), unit: km),
                Step(
                    "the distance of the second part",
                    .given(Given("the second speed in kilometres per hour", speed2)), .multiply,
                    .given(Given("the second driving time", hours2, hours)), unit: km),
                Step("the total distance", .step(0), .add, .step(1), unit: km),
                Step(
                    "the fuel used", .step(2), .divide,
                    .given(Given("the distance per litre of fuel", perLitre, km)), unit: Unit("litre", "litres")),
            ],
            template: rawValue)
    }

    private func harvest(_ r: inout SplitMix64) -> ArithmeticProblem {
        let (plant, fruit) = r.pick([
            (Unit("tomato plant", "tomato plants"), Unit("tomato", "tomatoes")),
            (Unit("pepper plant", "pepper plants"), Unit("pepper", "peppers")),
            (Unit("strawberry plant", "strawberry plants"), Unit("strawberry", "strawberries")),
        ])
        let name = r.pick(names)
        let rows = r.uniform(3...9), perRow = r.uniform(4...12)
        let failed = r.uniform(1...(rows * perRow / 3)), yield = r.uniform(3...15)
        let question =
            "\(name) plants \(rows) rows of \(plant.plural) with \(perRow) plants in each row. "
            + "\(Unit("plant", "plants").format(failed).capitalizedFirst) \(failed == 1 ? "does" : "do") not "
            + "grow, and each of the others gives \(yield) \(fruit.plural). How many \(fruit.plural) does "
            + "\(name) pick?"
        return ArithmeticProblem(
            question: question,
            steps: [
                Step(
                    "the number of plants planted", .given(Given("the number of rows", rows)), .multiply,
                    .given(Given("the number of plants in each row", perRow)), unit: Unit("plant", "plants")),
                Step(
                    "the number of plants that grow", .step(0), .subtract,
                    .given(Given("the number of plants that do not grow", failed)), unit: Unit("plant", "plants")),
                Step(
                    "the number of \(fruit.plural) picked", .step(1), .multiply,
                    .given(Given("the number of \(fruit.plural) from each plant", yield)), unit: fruit),
            ],
            template: rawValue)
    }
}

private func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
